"""The observe -> plan -> check | apply spine, proven on a toy in-memory key/value target."""
import json

import pytest

from ansible_collections.gpuvirt.core.plugins.module_utils import plan as spine


class Store(object):
    """A toy target: a dict with a write log and optional faults, like the emulators offer."""

    def __init__(self, data=None, fail_on=None):
        self.data = dict(data or {})
        self.writes = []
        self.fail_on = dict(fail_on or {})  # key -> number of writes of that key that fail

    def write(self, key, value):
        self.writes.append((key, value))
        if self.fail_on.get(key):
            self.fail_on[key] -= 1
            raise IOError('EIO writing %s' % key)
        if value is None:
            self.data.pop(key, None)
        else:
            self.data[key] = value


def plan_store(store, desired):
    """A planner in the shape every module uses: pure, validating, ordered."""
    for key, value in desired.items():
        if value is not None and not isinstance(value, int):
            raise spine.PlanError('value of %r must be an integer, got %r' % (key, value), key=key)
    current = dict(store.data)
    plan = spine.Plan()
    for key in sorted(desired):
        want, have = desired[key], current.get(key)
        if want == have:
            continue
        plan.add('remove' if want is None else ('set' if key in current else 'create'), key,
                 before=None if have is None else {'value': have},
                 after=None if want is None else {'value': want},
                 apply=lambda k=key, v=want: store.write(k, v),
                 undo=lambda k=key, v=have: store.write(k, v))
    return plan


def test_check_mode_reports_plan_and_writes_nothing():
    store = Store({'a': 1})
    plan = plan_store(store, {'a': 2, 'b': 3})
    outcome = spine.execute(plan, check_mode=True)
    assert outcome.changed
    assert store.writes == []
    assert outcome.result()['changes'] == [{'action': 'set', 'target': 'a'}, {'action': 'create', 'target': 'b'}]
    assert outcome.result()['diff'] == {'before': {'a': {'value': 1}}, 'after': {'a': {'value': 2}, 'b': {'value': 3}}}


def test_apply_then_second_run_plans_nothing():
    store = Store({'a': 1, 'c': 5})
    outcome = spine.execute(plan_store(store, {'a': 2, 'b': 3, 'c': None}))
    assert outcome.changed and store.data == {'a': 2, 'b': 3}
    writes = len(store.writes)
    again = spine.execute(plan_store(store, {'a': 2, 'b': 3, 'c': None}))
    assert not again.changed
    assert len(store.writes) == writes
    assert again.result() == {'changed': False, 'changes': [], 'diff': {'before': {}, 'after': {}}}


def test_invalid_input_fails_before_any_write():
    store = Store({'a': 1})
    with pytest.raises(spine.PlanError) as err:
        plan_store(store, {'a': 2, 'b': 'three'})
    assert "'b'" in err.value.msg and 'three' in err.value.msg
    assert err.value.details == {'key': 'b'}
    assert store.writes == []


@pytest.mark.parametrize('position', [0, 1, 2])
def test_failure_at_each_position_undoes_this_runs_changes(position):
    keys = ['a', 'b', 'c']
    store = Store({'a': 1}, fail_on={keys[position]: 1})
    plan = plan_store(store, {'a': 10, 'b': 20, 'c': 30})
    with pytest.raises(spine.ApplyError) as err:
        spine.execute(plan)
    exc = err.value
    assert store.data == {'a': 1}, 'state restored'
    assert exc.clean and exc.applied == []
    assert [c.target for c in exc.undone] == list(reversed(keys[:position]))
    assert [c.target for c in exc.not_started] == keys[position + 1:]
    assert exc.failed.target == keys[position]
    assert 'EIO' in exc.message()
    report = exc.report()
    assert report['state_restored'] is True
    json.dumps(report)


def test_failed_undo_is_reported_as_still_in_effect():
    store = Store({}, fail_on={'b': 1})
    plan = plan_store(store, {'a': 1, 'b': 2})
    # the undo of 'a' fails too: 'a' stays, and the error says so

    def failing_undo():
        raise IOError('EBUSY')
    plan.changes[0].undo = failing_undo
    with pytest.raises(spine.ApplyError) as err:
        spine.execute(plan)
    exc = err.value
    assert not exc.clean
    assert [c.target for c in exc.applied] == ['a']
    assert exc.undo_failed[0][1] == 'EBUSY'
    assert 'still in effect: create a' in exc.message() and 'undo failed' in exc.message()
    assert store.data == {'a': 1}


def test_change_without_undo_stays_applied_and_is_named():
    store = Store({}, fail_on={'b': 1})
    plan = plan_store(store, {'a': 1, 'b': 2})
    plan.changes[0].undo = None
    with pytest.raises(spine.ApplyError) as err:
        spine.execute(plan)
    assert [c.target for c in err.value.not_undoable] == ['a']
    assert [c.target for c in err.value.applied] == ['a']
    assert err.value.report()['state_restored'] is False


def test_diff_collapses_several_changes_on_one_target():
    plan = spine.Plan()
    plan.add('remove', 'vf0', before={'type': 'A10-4Q'}, after=None, apply=lambda: None)
    plan.add('create', 'vf0', before=None, after={'type': 'A10-8Q'}, apply=lambda: None)
    plan.add('remove', 'vf1', before={'type': 'A10-4Q'}, after=None, apply=lambda: None)
    assert plan.diff() == {'before': {'vf0': {'type': 'A10-4Q'}, 'vf1': {'type': 'A10-4Q'}},
                           'after': {'vf0': {'type': 'A10-8Q'}}}


def test_change_needs_action_and_target():
    with pytest.raises(ValueError):
        spine.Change('', 'x')
    with pytest.raises(ValueError):
        spine.execute(spine.Plan([spine.Change('set', 'x')]))


class FakeModule(object):
    """Just what plan.run uses of AnsibleModule."""

    def __init__(self, check_mode=False, diff=True):
        self.check_mode = check_mode
        self._diff = diff
        self.warnings = []
        self.exit = None

    def warn(self, text):
        self.warnings.append(text)

    def exit_json(self, **kwargs):
        self.exit = ('exit', kwargs)
        raise SystemExit(0)

    def fail_json(self, **kwargs):
        self.exit = ('fail', kwargs)
        raise SystemExit(1)


def _run(module, store, desired):
    def planner(current):
        plan = plan_store(store, desired)
        plan.warnings.append('toy warning')
        return plan
    with pytest.raises(SystemExit):
        spine.run(module, lambda: dict(store.data), planner,
                  result=lambda current, outcome: {'before_keys': sorted(current), 'after': dict(store.data)})
    return module.exit


def test_run_exits_with_result_diff_and_warnings():
    store = Store({'a': 1})
    module = FakeModule()
    kind, res = _run(module, store, {'a': 2})
    assert kind == 'exit'
    assert res['changed'] is True
    assert res['after'] == {'a': 2} and res['before_keys'] == ['a']
    assert res['diff']['after'] == {'a': {'value': 2}}
    assert module.warnings == ['toy warning']


def test_run_check_mode_and_no_diff():
    store = Store({'a': 1})
    kind, res = _run(FakeModule(check_mode=True, diff=False), store, {'a': 2})
    assert kind == 'exit' and res['changed'] is True and 'diff' not in res
    assert store.writes == []


def test_run_turns_errors_into_fail_json():
    store = Store({'a': 1})
    kind, res = _run(FakeModule(), store, {'a': 'x'})
    assert kind == 'fail' and "'a'" in res['msg'] and res['key'] == 'a'

    store = Store({'a': 1}, fail_on={'b': 1})
    kind, res = _run(FakeModule(), store, {'a': 2, 'b': 3})
    assert kind == 'fail'
    assert res['changed'] is False and res['state_restored'] is True
    assert res['failed_change'] == {'action': 'create', 'target': 'b'}
    assert store.data == {'a': 1}


def test_run_unexpected_error_fails_cleanly():
    module = FakeModule()

    def observe():
        raise KeyError('boom')
    with pytest.raises(SystemExit):
        spine.run(module, observe, lambda current: spine.Plan())
    kind, res = module.exit
    assert kind == 'fail' and res['msg'].startswith('KeyError') and 'Traceback' in res['exception']
