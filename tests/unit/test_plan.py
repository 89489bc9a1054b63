"""The observe -> plan -> check | apply spine, proven on a toy in-memory key/value target."""
import json
import sys

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

    def __init__(self, check_mode=False, diff=True, params=None):
        self.check_mode = check_mode
        self._diff = diff
        self.params = dict(params or {})
        self.warnings = []
        self.exit = None
        self.pending_exception = None

    def warn(self, text):
        self.warnings.append(text)

    def exit_json(self, **kwargs):
        self.exit = ('exit', kwargs)
        raise SystemExit(0)

    def fail_json(self, **kwargs):
        self.pending_exception = sys.exc_info()[0]
        self.exit = ('fail', kwargs)
        raise SystemExit(1)


class Functions(spine.Operation):
    """An Operation made of plain functions (observe, plan, result), for the tests of run's exit path."""

    def __init__(self, module, observe, planner, result=None):
        super(Functions, self).__init__(module)
        self.functions = (observe, planner, result)

    def observe(self):
        return self.functions[0]()

    def plan(self, current):
        return self.functions[1](current)

    def result(self, current, outcome):
        return self.functions[2](current, outcome) if self.functions[2] else {}


def _run(module, store, desired):
    def planner(current):
        plan = plan_store(store, desired)
        plan.warnings.append('toy warning')
        return plan
    with pytest.raises(SystemExit):
        spine.run(module, Functions(module, lambda: dict(store.data), planner,
                                    result=lambda current, outcome: {'before_keys': sorted(current), 'after': dict(store.data)}))
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
        spine.run(module, Functions(module, observe, lambda current: spine.Plan()))
    kind, res = module.exit
    assert kind == 'fail' and res['msg'].startswith('KeyError') and 'Traceback' in res['exception']


# --- plan.Operation: the one lifecycle -------------------------------------------------------------------------

class StoreOperation(spine.Operation):
    """A toy module: sets ``desired`` in a Store, with a session, a wait and failure details."""

    positive = ('wait_timeout',)
    events = None

    def __init__(self, module, store, desired, wait=None):
        super(StoreOperation, self).__init__(module)
        self.store, self.desired, self.wait = store, desired, wait
        self.events = []

    def validate(self):
        self.events.append('validate')
        if 'bad' in self.desired:
            raise spine.PlanError('desired key bad is not allowed', option='desired')

    def session(self):
        operation = self

        class Session(object):
            def __enter__(self):
                operation.events.append('enter')
                return 'token'

            def __exit__(self, *exc_info):
                operation.events.append('exit')
                return False
        return Session()

    def observe(self):
        self.events.append('observe:%s' % self.session_value)
        return dict(self.store.data)

    def plan(self, current):
        return plan_store(self.store, self.desired)

    def after_apply(self, current, outcome):
        self.events.append('after_apply')
        if self.wait is not None:
            raise self.wait

    def result(self, current, outcome):
        return {'after': dict(self.store.data)}

    def failure_details(self, current, error):
        return {'found': dict(self.store.data)}


def test_operation_lifecycle_order_and_session_closed():
    store = Store({'a': 1})
    module = FakeModule(params={'wait_timeout': 5})
    operation = StoreOperation(module, store, {'a': 2})
    with pytest.raises(SystemExit):
        spine.run(module, operation)
    assert operation.events == ['validate', 'enter', 'observe:token', 'after_apply', 'exit']
    kind, res = module.exit
    assert kind == 'exit' and res['changed'] is True and res['after'] == {'a': 2}


def test_operation_after_apply_skipped_in_check_mode():
    store = Store({'a': 1})
    module = FakeModule(check_mode=True, params={'wait_timeout': 5})
    operation = StoreOperation(module, store, {'a': 2}, wait=spine.WaitError('never'))
    with pytest.raises(SystemExit):
        spine.run(module, operation)
    assert 'after_apply' not in operation.events and module.exit[0] == 'exit' and store.writes == []


def test_operation_after_apply_runs_when_nothing_changed():
    """A rerun after a timed-out wait has nothing to write and waits again; its failure says nothing changed."""
    store = Store({'a': 1})
    module = FakeModule(params={'wait_timeout': 5})
    operation = StoreOperation(module, store, {'a': 1}, wait=spine.WaitError('still waiting'))
    with pytest.raises(SystemExit):
        spine.run(module, operation)
    kind, res = module.exit
    assert 'after_apply' in operation.events and store.writes == []
    assert kind == 'fail' and res['changed'] is False and res['changes'] == []


def test_operation_refusals_before_session_and_outside_except():
    store = Store({'a': 1})
    module = FakeModule(params={'wait_timeout': 0})
    operation = StoreOperation(module, store, {'a': 2})
    with pytest.raises(SystemExit):
        spine.run(module, operation)
    kind, res = module.exit
    assert kind == 'fail' and res['option'] == 'wait_timeout' and operation.events == []
    assert module.pending_exception is None

    module = FakeModule(params={'wait_timeout': 5})
    operation = StoreOperation(module, store, {'bad': 1})
    with pytest.raises(SystemExit):
        spine.run(module, operation)
    assert module.exit[1]['option'] == 'desired' and operation.events == ['validate'] and store.writes == []


def test_operation_wait_error_reports_the_writes_made():
    store = Store({'a': 1})
    module = FakeModule(params={'wait_timeout': 5})
    operation = StoreOperation(module, store, {'a': 2}, wait=spine.WaitError('timed out waiting', waiting=['a']))
    with pytest.raises(SystemExit):
        spine.run(module, operation)
    kind, res = module.exit
    assert kind == 'fail' and res['msg'] == 'timed out waiting'
    assert res['changed'] is True and res['changes'] == [{'action': 'set', 'target': 'a'}]
    assert res['waiting'] == ['a'] and res['found'] == {'a': 2} and operation.events[-1] == 'exit'
    assert module.pending_exception is None


def test_operation_outcome_unknown_reads_the_state_again():
    """A write whose answer never came: run reads again, plans again and reports what is still to do."""
    store = Store({'a': 1})

    class Lost(StoreOperation):
        def plan(self, current):
            the_plan = plan_store(self.store, self.desired)
            for change in the_plan:
                if change.target == 'b':
                    write = change.apply

                    def lost(write=write):
                        write()  # the write lands, the answer is lost
                        raise spine.OutcomeUnknown('no answer within 5s')
                    change.apply = lost
            return the_plan

    module = FakeModule(params={'wait_timeout': 5})
    operation = Lost(module, store, {'a': 2, 'b': 3, 'c': 4})
    with pytest.raises(SystemExit):
        spine.run(module, operation)
    kind, res = module.exit
    assert kind == 'fail' and res['outcome_unknown'] == ['b']
    assert 'no answer within 5s' in res['msg'] and 'reading the state again shows that it took effect' in res['msg']
    # nothing is undone after an unknown outcome (an undo would race the request); b landed: only c is still to do
    assert res['remaining_changes'] == [{'action': 'create', 'target': 'c'}]
    assert res['found'] == {'a': 2, 'b': 3} and res['undone'] == []
    assert res['changed'] is True and res['state_restored'] is False


def test_operation_outcome_unknown_first_change_never_claims_nothing_changed():
    """The first change's answer is lost: not 'nothing was changed', but what reading again shows."""
    for lands, took_effect in ((True, 'took effect'), (False, 'still to do')):
        store = Store({'a': 1})

        class Lost(StoreOperation):
            def plan(self, current):
                the_plan = plan_store(self.store, self.desired)
                write = the_plan.changes[0].apply

                def lost(write=write):
                    if lands:
                        write()
                    raise spine.OutcomeUnknown('no answer within 5s')
                the_plan.changes[0].apply = lost
                return the_plan

        module = FakeModule(params={'wait_timeout': 5})
        with pytest.raises(SystemExit):
            spine.run(module, Lost(module, store, {'a': 2}))
        kind, res = module.exit
        assert kind == 'fail' and took_effect in res['msg'] and ('nothing was changed' in res['msg']) is (not lands)
        assert res['changed'] is lands and res['state_restored'] is (not lands)


def test_apply_error_unknown_without_reread_is_not_clean():
    plan = spine.Plan()

    def lost():
        raise spine.OutcomeUnknown('no answer')
    plan.add('set', 'x', apply=lost, undo=lambda: None)
    with pytest.raises(spine.ApplyError) as info:
        spine.execute(plan)
    report = info.value.report()
    assert report['changed'] is True and report['state_restored'] is False
    assert 'whether it took effect is unknown' in report['msg']


def test_operation_outcome_unknown_while_waiting():
    store = Store({'a': 1})
    module = FakeModule(params={'wait_timeout': 5})
    operation = StoreOperation(module, store, {'a': 2}, wait=spine.OutcomeUnknown('API server gone while waiting'))
    with pytest.raises(SystemExit):
        spine.run(module, operation)
    kind, res = module.exit
    assert kind == 'fail' and res['changed'] is True and res['remaining_changes'] == []


def test_apply_error_report_keeps_undo_failures_and_not_undoable():
    store = Store({})
    plan = spine.Plan()
    plan.add('create', 'x', apply=lambda: store.write('x', 1), undo=None)
    plan.add('create', 'y', apply=lambda: store.write('y', 1), undo=lambda: store.write('boom', 1))
    plan.add('create', 'z', apply=lambda: store.write('z', 1))
    store.fail_on = {'z': 1, 'boom': 1}
    with pytest.raises(spine.ApplyError) as info:
        spine.execute(plan)
    report = info.value.report()
    assert report['changed'] is True and report['state_restored'] is False
    assert report['not_undoable'] == [{'action': 'create', 'target': 'x'}]
    assert report['undo_failed'] == [{'action': 'create', 'target': 'y', 'error': 'EIO writing boom'}]


def test_reads_only_operation_reports_unchanged_without_plan():
    class Info(spine.Operation):
        reads_only = True

        def observe(self):
            return {'gpus': 2}

        def result(self, current, outcome):
            assert outcome is None
            return {'facts': current}

    module = FakeModule()
    with pytest.raises(SystemExit):
        spine.run(module, Info)
    assert module.exit == ('exit', {'changed': False, 'facts': {'gpus': 2}})
