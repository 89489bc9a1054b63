# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The spine every changing gpuvirt.core module follows: observe -> plan -> check-mode report | apply.

1. *observe*: the module reads the current state in as few calls as the API allows;
2. *plan*: a pure function of (desired, current) returns a :class:`Plan`, an ordered list of :class:`Change`,
   or raises :class:`PlanError` when the desired state is impossible. All validation happens here, before
   the first write;
3. check mode: :func:`execute` returns the plan as ``changed``/``diff`` and calls nothing;
4. apply: :func:`execute` runs each change's ``apply`` in order. When one fails it runs the ``undo`` of the
   changes this run already applied, newest first, and raises :class:`ApplyError`, which says exactly what was
   applied, undone, could not be undone and never started, so the module can report the state left behind.

A second run with the same input plans nothing, so it writes nothing.

:func:`run` is the glue for modules: it turns the outcome into ``exit_json``/``fail_json``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import traceback


class Change(object):
    """One planned write.

    ``action`` is a short verb (``create``, ``remove``, ``set``...), ``target`` names the object it acts on
    (a PCI address, a VM name, ``Node/gpu-1``...). ``before``/``after`` are JSON-compatible snapshots of the
    target used for the diff (``None`` when the target does not exist on that side). ``apply`` is a callable
    with no arguments doing the write; its return value is kept as ``result``. ``undo`` is a callable that
    reverts a successful ``apply``, or ``None`` when that is impossible. ``details`` is extra data reported
    with the change (never secrets).
    """

    __slots__ = ('action', 'target', 'before', 'after', 'apply', 'undo', 'details', 'result')

    def __init__(self, action, target, before=None, after=None, apply=None, undo=None, details=None):
        if not action or not target:
            raise ValueError('a change needs an action and a target')
        self.action = action
        self.target = target
        self.before = before
        self.after = after
        self.apply = apply
        self.undo = undo
        self.details = dict(details or {})
        self.result = None

    def describe(self):
        """The change as reported to users: action, target and details (no callables)."""
        out = {'action': self.action, 'target': self.target}
        out.update(self.details)
        return out

    def __repr__(self):
        return 'Change(%r, %r)' % (self.action, self.target)


class Plan(object):
    """An ordered list of changes plus warnings for the user. Empty means: nothing to do."""

    def __init__(self, changes=None, warnings=None):
        self.changes = list(changes or [])
        self.warnings = list(warnings or [])

    def add(self, action, target, **kwargs):
        """Append a :class:`Change` built from the arguments and return it."""
        change = Change(action, target, **kwargs)
        self.changes.append(change)
        return change

    def extend(self, other):
        """Append the changes and warnings of another plan."""
        self.changes.extend(other.changes)
        self.warnings.extend(other.warnings)
        return self

    def __len__(self):
        return len(self.changes)

    def __iter__(self):
        return iter(self.changes)

    def __bool__(self):
        return bool(self.changes)

    __nonzero__ = __bool__

    @property
    def changed(self):
        return bool(self.changes)

    def describe(self):
        return [c.describe() for c in self.changes]

    def diff(self):
        """Ansible's diff: ``before``/``after`` maps keyed by target, in plan order.

        When several changes touch one target, ``before`` keeps the first change's ``before`` and ``after``
        the last change's ``after`` (e.g. remove then create on one VF shows the end state). Targets that do
        not exist on a side are left out of that side.
        """
        before, after, seen = {}, {}, set()
        for change in self.changes:
            if change.target not in seen:
                seen.add(change.target)
                if change.before is not None:
                    before[change.target] = change.before
            if change.after is None:
                after.pop(change.target, None)
            else:
                after[change.target] = change.after
        return {'before': before, 'after': after}


class PlanError(Exception):
    """The desired state is impossible or the input is invalid. Raised before the first write.

    ``msg`` says what was asked, what was found and what to do; ``details`` are returned to the user as
    extra result keys (e.g. ``valid_profiles``).
    """

    def __init__(self, msg, **details):
        super(PlanError, self).__init__(msg)
        self.msg = msg
        self.details = details


class ApplyError(Exception):
    """A change failed while applying; the system is in the state described by the attributes.

    ``failed``: the change that raised, ``error``: its exception text, ``applied``: the changes that
    succeeded and are still in effect, ``undone``: changes that succeeded and were reverted,
    ``undo_failed``: ``(change, error text)`` for reverts that failed (still in effect),
    ``not_undoable``: succeeded, have no undo, still in effect, ``not_started``: never attempted.
    """

    def __init__(self, failed, error, applied, undone, undo_failed, not_undoable, not_started):
        self.failed = failed
        self.error = error
        self.applied = applied
        self.undone = undone
        self.undo_failed = undo_failed
        self.not_undoable = not_undoable
        self.not_started = not_started
        super(ApplyError, self).__init__(self.message())

    @property
    def clean(self):
        """True when every applied change was reverted: the system is as it was before the run."""
        return not self.applied

    def message(self):
        msg = 'failed to %s %s: %s' % (self.failed.action, self.failed.target, self.error)
        if self.clean:
            if self.undone:
                msg += '; the %d change(s) made before it were undone, nothing was left changed' % len(self.undone)
            else:
                msg += '; nothing was changed'
        else:
            msg += '; still in effect: %s' % ', '.join('%s %s' % (c.action, c.target) for c in self.applied)
            if self.undo_failed:
                msg += ' (undo failed for: %s)' % ', '.join('%s %s: %s' % (c.action, c.target, e) for c, e in self.undo_failed)
        return msg

    def report(self):
        """Result keys describing the state left behind."""
        return {
            'failed_change': self.failed.describe(),
            'applied': [c.describe() for c in self.applied],
            'undone': [c.describe() for c in self.undone],
            'not_started': [c.describe() for c in self.not_started],
            'state_restored': self.clean,
        }


class Outcome(object):
    """What :func:`execute` did: the plan, whether anything changed, and the changes applied."""

    def __init__(self, plan, applied, check_mode):
        self.plan = plan
        self.applied = applied
        self.check_mode = check_mode

    @property
    def changed(self):
        return self.plan.changed

    def result(self, diff=True):
        out = {'changed': self.changed, 'changes': self.plan.describe()}
        if diff:
            out['diff'] = self.plan.diff()
        return out


def execute(plan, check_mode=False):
    """Apply ``plan`` in order (or nothing in check mode) and return an :class:`Outcome`.

    On the first failing change the changes already applied by this call are undone newest first; then
    :class:`ApplyError` is raised describing the state left behind.
    """
    if check_mode or not plan:
        return Outcome(plan, [], check_mode)
    applied = []
    for index, change in enumerate(plan.changes):
        if change.apply is None:
            raise ValueError('change %r has nothing to apply' % (change,))
        try:
            change.result = change.apply()
        except Exception as exc:  # pylint: disable=broad-except
            error = _error_text(exc)
            undone, undo_failed, not_undoable = _rollback(applied)
            still = [c for c in applied if c not in undone]
            raise ApplyError(change, error, still, undone, undo_failed, not_undoable, plan.changes[index + 1:])
        applied.append(change)
    return Outcome(plan, applied, check_mode)


def _rollback(applied):
    undone, undo_failed, not_undoable = [], [], []
    for change in reversed(applied):
        if change.undo is None:
            not_undoable.append(change)
            continue
        try:
            change.undo()
        except Exception as exc:  # pylint: disable=broad-except
            undo_failed.append((change, _error_text(exc)))
        else:
            undone.append(change)
    return undone, undo_failed, not_undoable


def _error_text(exc):
    text = str(exc) or exc.__class__.__name__
    return text


TIMEOUT_OPTIONS = ('request_timeout', 'timeout', 'wait_timeout', 'wait_sleep', 'lock_timeout', 'maintenance_timeout',
                   'reboot_timeout', 'shutdown_timeout')


def check_not_negative(params, *names):
    """PlanError naming the first of ``names`` set in ``params`` below 0: for the options where 0 means "do not
    wait" (the host lock, sriov-manage's retries), a negative number of seconds means nothing."""
    for name in names:
        value = params.get(name)
        if value is not None and not isinstance(value, bool) and value < 0:
            raise PlanError('%s must be 0 (do not wait) or more (seconds); got %r' % (name, value), option=name)


def check_positive(params, *names):
    """PlanError naming the first of ``names`` (default: every timeout option) set in ``params`` to 0 or less.

    Seconds to wait must be more than 0: a wait of -1 s times out before it starts (after the writes), and 0
    turns a poll into a busy loop or makes a request give up at once.
    """
    for name in names or TIMEOUT_OPTIONS:
        value = params.get(name)
        if value is not None and not isinstance(value, bool) and value <= 0:
            raise PlanError('%s must be greater than 0 (seconds); got %r' % (name, value), option=name)


def require_positive(module, *names):
    """:func:`check_positive` for modules outside :func:`run` (``fail_json`` naming the option, before any call)."""
    failure = None
    try:
        check_positive(module.params, *names)
    except PlanError as exc:
        failure = dict(exc.details, msg=exc.msg)
    if failure is not None:
        module.fail_json(**failure)


def run(module, observe, plan, result=None):
    """Module glue: ``observe()`` -> ``plan(current)`` -> execute in the module's check mode -> exit.

    ``observe`` takes no arguments and returns the current state; ``plan`` takes it and returns a
    :class:`Plan`; ``result`` (optional) takes ``(current, outcome)`` and returns extra result keys (for
    instance the state after the change, or ``created``/``removed`` lists). :class:`PlanError` and
    :class:`ApplyError` become ``fail_json`` with a clear message; any other exception also fails cleanly,
    with the traceback kept in ``exception`` for ``-vvv`` only.
    """
    failure = None  # fail_json is called outside the except blocks: ansible-core shows a pending exception's traceback
    try:
        current = observe()
        the_plan = plan(current)
        outcome = execute(the_plan, module.check_mode)
        out = outcome.result(diff=module._diff)  # pylint: disable=protected-access
        if result is not None:
            out.update(result(current, outcome))
        for warning in the_plan.warnings:
            module.warn(warning)
    except PlanError as exc:
        failure = dict(exc.details, msg=exc.msg)
    except ApplyError as exc:
        failure = dict(exc.report(), msg=exc.message(), changed=bool(exc.applied))
    except Exception as exc:  # pylint: disable=broad-except
        failure = dict(msg='%s: %s' % (exc.__class__.__name__, exc), exception=traceback.format_exc())
    if failure is not None:
        module.fail_json(**failure)
    module.exit_json(**out)
