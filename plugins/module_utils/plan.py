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

:class:`Operation` is what one module does (session, observe, plan, after_apply, result, failure_details) and
:func:`run` drives it: the one place where a module exits (``exit_json``/``fail_json``).
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


class GpuvirtError(Exception):
    """Base of the three ways a run can fail; ``msg`` is the message, ``details`` extra result keys.

    - :class:`PlanError`: refused before the first write (bad input, impossible state, state that could not be read);
    - :class:`ApplyError` and :class:`WaitError`: failed during apply (a change failed; or the writes went in and what
      had to follow them, such as a wait, failed);
    - :class:`OutcomeUnknown`: a request was sent and no answer came; whether it took effect is unknown until the state
      is read again, which :func:`run` does.
    """

    def __init__(self, msg, **details):
        super(GpuvirtError, self).__init__(msg)
        self.msg = msg
        self.details = details

    def report(self):
        """Result keys for ``fail_json``."""
        return dict(self.details, msg=self.msg)


class PlanError(GpuvirtError):
    """The desired state is impossible, the input is invalid or the current state could not be read. Raised before
    the first write.

    ``msg`` says what was asked, what was found and what to do; ``details`` are returned to the user as
    extra result keys (e.g. ``valid_profiles``).
    """


class WaitError(GpuvirtError):
    """The writes went in; what had to follow them (waiting for an operator, a task, a reboot) failed.
    :func:`run` adds ``changed`` and ``changes`` for the writes."""


class OutcomeUnknown(GpuvirtError):
    """A request was sent and no answer came (timeout, connection reset): it may or may not have taken effect.

    Raised by a change's ``apply`` (then :func:`execute` reports it as the failed change of an :class:`ApplyError`) or
    by :meth:`Operation.after_apply`. :func:`run` reads the state again and reports what it finds.
    """


class ApplyError(GpuvirtError):
    """A change failed while applying; the system is in the state described by the attributes.

    ``failed``: the change that raised, ``error``: its exception text, ``cause``: the exception, ``applied``: the
    changes that succeeded and are still in effect (including those in ``undo_failed`` and ``not_undoable``),
    ``undone``: changes that succeeded and were reverted, ``undo_failed``: ``(change, error text)`` for reverts that
    failed (still in effect), ``not_undoable``: succeeded, have no undo, still in effect, ``not_started``: never
    attempted.
    """

    def __init__(self, failed, error, applied, undone, undo_failed, not_undoable, not_started, cause=None):
        self.failed = failed
        self.error = error
        self.cause = cause
        self.applied = applied
        self.undone = undone
        self.undo_failed = undo_failed
        self.not_undoable = not_undoable
        self.not_started = not_started
        self.took_effect = None  # after an unknown outcome: what reading the state again showed (None: not known)
        super(ApplyError, self).__init__(self.message())

    @property
    def clean(self):
        """True when the system is known to be as it was before the run: every applied change was reverted and the
        failed change is known not to have taken effect."""
        return not self.applied and not (self.outcome_unknown and self.took_effect is not False)

    @property
    def outcome_unknown(self):
        """True when the failed change's request got no answer: it may have taken effect."""
        return isinstance(self.cause, OutcomeUnknown)

    def message(self):
        msg = 'failed to %s %s: %s' % (self.failed.action, self.failed.target, self.error)
        if self.outcome_unknown:
            msg += {None: '; whether it took effect is unknown (the state could not be read again)',
                    True: '; reading the state again shows that it took effect',
                    False: '; reading the state again shows that it is still to do'}[self.took_effect]
        if self.clean:
            if self.undone:
                msg += '; the %d change(s) made before it were undone, nothing was left changed' % len(self.undone)
            else:
                msg += '; nothing was changed'
        elif self.applied:
            msg += '; still in effect: %s' % ', '.join('%s %s' % (c.action, c.target) for c in self.applied)
            if self.undo_failed:
                msg += ' (undo failed for: %s)' % ', '.join('%s %s: %s' % (c.action, c.target, e) for c, e in self.undo_failed)
        return msg

    def report(self):
        """Result keys describing the state left behind (``changed`` is false only when the system is known to be as it
        was: :attr:`clean`)."""
        out = dict(self.details)
        if isinstance(self.cause, GpuvirtError):
            for key, value in self.cause.details.items():
                out.setdefault(key, value)
        out.update({
            'msg': self.message(),
            'changed': not self.clean,
            'failed_change': self.failed.describe(),
            'applied': [c.describe() for c in self.applied],
            'undone': [c.describe() for c in self.undone],
            'undo_failed': [dict(c.describe(), error=e) for c, e in self.undo_failed],
            'not_undoable': [c.describe() for c in self.not_undoable],
            'not_started': [c.describe() for c in self.not_started],
            'state_restored': self.clean,
        })
        return out


class Outcome(object):
    """What :func:`execute` did: the plan, whether anything changed, and the changes applied."""

    def __init__(self, plan, applied):
        self.plan = plan
        self.applied = applied

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
    :class:`ApplyError` is raised describing the state left behind. When the failing change's request got no answer
    (:class:`OutcomeUnknown`) nothing is undone: the request may still be running, and an undo would race it.
    """
    if check_mode or not plan:
        return Outcome(plan, [])
    applied = []
    for index, change in enumerate(plan.changes):
        if change.apply is None:
            raise ValueError('change %r has nothing to apply' % (change,))
        try:
            change.result = change.apply()
        except Exception as exc:  # pylint: disable=broad-except
            error = _error_text(exc)
            undone, undo_failed, not_undoable = _rollback(applied) if not isinstance(exc, OutcomeUnknown) else ([], [], [])
            still = [c for c in applied if c not in undone]
            raise ApplyError(change, error, still, undone, undo_failed, not_undoable, plan.changes[index + 1:], cause=exc)
        applied.append(change)
    return Outcome(plan, applied)


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
    if isinstance(exc, GpuvirtError):
        return exc.msg
    return str(exc) or exc.__class__.__name__


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


class Operation(object):
    """What one module does, in the order :func:`run` calls it. Subclass it once per module (``operations/<module>.py``).

    1. :attr:`positive` / :attr:`not_negative`: option names checked by :func:`check_positive` /
       :func:`check_not_negative` before anything else; then :meth:`validate` (input checks that need no system);
    2. :meth:`session`: a context manager held from observe to the result (the vSphere login, the host lock, an API
       client); what it yields is kept in ``self.session_value``;
    3. :meth:`observe` -> current state; :meth:`plan` (current) -> :class:`Plan`; both may raise :class:`PlanError`;
    4. :func:`execute` in the module's check mode; :meth:`after_apply` (current, outcome) runs after it, never in check
       mode, also when nothing had to change (a rerun after a timed-out wait waits again); waits and follow-ups go
       there; it may raise :class:`WaitError` or :class:`OutcomeUnknown`;
    5. :meth:`result` (current, outcome) -> extra result keys; on a failure after observe, :meth:`failure_details`
       (current, error) -> extra keys describing the state left behind (the session is still open).

    ``self.check_mode`` is the module's check mode; read it there, not on the module. An info module sets
    :attr:`reads_only`: :func:`run` then calls observe and ``result(current, None)`` only, and reports
    ``changed=false``.
    """

    positive = ()
    not_negative = ()
    reads_only = False

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.check_mode = module.check_mode
        self.session_value = None

    def validate(self):
        """Input checks that need no connection; raise :class:`PlanError`."""

    def session(self):
        """A context manager around observe .. result (default: none)."""
        return _NoSession()

    def observe(self):
        """The current state, read in as few calls as the API allows."""
        raise NotImplementedError

    def plan(self, current):
        """A :class:`Plan` from the options and ``current``; pure apart from building the changes' callables."""
        raise NotImplementedError

    def after_apply(self, current, outcome):
        """Runs after a successful apply, also when nothing changed (never in check mode): waits and follow-ups;
        ``outcome.applied`` says what this run wrote."""

    def result(self, current, outcome):
        """Extra result keys on success."""
        return {}

    def failure_details(self, current, error):
        """Extra result keys when ``error`` (:class:`ApplyError`, :class:`WaitError` or :class:`OutcomeUnknown`)
        happened after observe: typically the state read again."""
        return {}


class _NoSession(object):

    def __enter__(self):
        return None

    def __exit__(self, *exc_info):
        return False


def _reread(operation):
    """After an unknown outcome: observe and plan again. (result keys, state found or None, Plan or None)."""
    try:
        found = operation.observe()
        remaining = operation.plan(found)
    except Exception as exc:  # pylint: disable=broad-except
        return {'reread_error': _error_text(exc)}, None, None
    return {'remaining_changes': remaining.describe()}, found, remaining


def perform(module, operation):
    """Everything :func:`run` does but the exit: the result dict, or a :class:`GpuvirtError` / other exception."""
    params = module.params
    if operation.positive:
        check_positive(params, *operation.positive)
    if operation.not_negative:
        check_not_negative(params, *operation.not_negative)
    operation.validate()
    with operation.session() as value:
        operation.session_value = value
        current = operation.observe()
        if operation.reads_only:
            out = {'changed': False}
            out.update(operation.result(current, None))
            return out
        the_plan = operation.plan(current)
        try:
            outcome = execute(the_plan, operation.check_mode)
        except ApplyError as exc:
            if exc.outcome_unknown:
                keys, found, remaining = _reread(operation)
                exc.details.update(keys)
                exc.details['outcome_unknown'] = [exc.failed.target]
                if remaining is not None:
                    current = found
                    exc.took_effect = not any(c.action == exc.failed.action and c.target == exc.failed.target for c in remaining)
            exc.details.update(operation.failure_details(current, exc))
            raise
        if not operation.check_mode:
            try:
                operation.after_apply(current, outcome)
            except GpuvirtError as exc:
                for key, value in outcome.result(diff=False).items():
                    exc.details.setdefault(key, value)
                if isinstance(exc, OutcomeUnknown):
                    exc.details.update(_reread(operation)[0])
                exc.details.update(operation.failure_details(current, exc))
                raise
        out = outcome.result(diff=module._diff)  # pylint: disable=protected-access
        out.update(operation.result(current, outcome))
        for warning in the_plan.warnings:
            module.warn(warning)
    return out


def run(module, operation):
    """Module glue, the one exit path: ``operation`` (an :class:`Operation` subclass or instance) through
    :func:`perform`, then ``exit_json``, or ``fail_json`` with the error's result keys.

    :class:`GpuvirtError` becomes ``fail_json`` with its message and :meth:`~GpuvirtError.report`; any other exception
    also fails cleanly, with the traceback kept in ``exception`` for ``-vvv`` only. ``fail_json`` is called outside
    the ``except`` blocks: ansible-core shows a pending exception's traceback.
    """
    if isinstance(operation, type):
        operation = operation(module)
    failure = None
    try:
        out = perform(module, operation)
    except GpuvirtError as exc:
        failure = exc.report()
    except Exception as exc:  # pylint: disable=broad-except
        failure = dict(msg='%s: %s' % (exc.__class__.__name__, exc), exception=traceback.format_exc())
    if failure is not None:
        module.fail_json(**failure)
    module.exit_json(**out)
