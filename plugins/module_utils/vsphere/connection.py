# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vSphere session of the pyvmomi modules: lazy pyvmomi import, login with clear errors, always logged out, task
waiting, and :class:`VsphereOperation`, the :class:`~plan.Operation` base whose ``session()`` is that login.

Errors: what fails before the first write (pyvmomi missing, connection options, login, TLS) is a
:class:`~plan.PlanError`; a task that ends in an error is a :class:`VsphereError` (raised inside a change's apply, so
:func:`plan.execute` reports it as the failed change and undoes what was applied); a task that does not finish in time
is :class:`~plan.OutcomeUnknown` (it may still take effect; :func:`plan.run` reads the state again).

A call that gets no answer (socket timeout, connection reset or closed: a slow or stopped vCenter) during apply is an
unknown outcome too (:meth:`VsphereOperation.guard`): the request may have been carried out. Nothing this run applied
is then undone (an undo could race the request still running on the vCenter); :func:`plan.run` reads the state again,
with a fresh login when the connection failed (:meth:`VsphereOperation.observe`), and reports what it finds. Only a
connection that was refused outright is a plain failure: that request never left.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import socket
import ssl
import time

from http.client import HTTPException

from ansible_collections.gpuvirt.core.plugins.module_utils.plan import TIMEOUT_OPTIONS, GpuvirtError, Operation, OutcomeUnknown, PlanError


class VsphereError(GpuvirtError):
    """A vSphere call or task failed while applying (a fault, a wrong result), with a message that says what to do."""


def required_connection(params):
    """Names of connection options missing after env fallbacks, for one clear error."""
    return [name for name in ('hostname', 'username', 'password') if not params.get(name)]


def pyvmomi():
    """(vim, vmodl) from pyVmomi, imported on first use."""
    try:
        from pyVmomi import vim, vmodl  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise PlanError('the vSphere modules need the Python library pyvmomi (>= 8.0.3) on the host that runs '
                        'the module: pip install pyvmomi')
    return vim, vmodl


# What a call that got no answer raises (pyVmomi's SOAP stub lets them through): socket.timeout, ConnectionResetError,
# BrokenPipeError, ssl errors are OSError; http.client's RemoteDisconnected / BadStatusLine / IncompleteRead are
# HTTPException.
TRANSPORT_ERRORS = (OSError, HTTPException)


def no_answer_text(where, exc, timeout):
    """The message of a request to vCenter/ESXi ``where`` that got no answer."""
    kind = 'no answer within %s s' % timeout if isinstance(exc, socket.timeout) else 'the connection failed'
    return ('%s from vCenter/ESXi %s (%s): the vCenter was slow or unreachable, so whether it took effect is unknown. '
            'The state was read again (remaining_changes: what is still to do; reread_error: it could not be read). Check that '
            'the vCenter answers and its recent tasks, raise timeout if it is slow, then run again'
            % (kind, where, exc.__class__.__name__ + (': %s' % exc if str(exc) else '')))


def fault_text(exc):
    """One line for a vSphere fault (its type and localized message, not pyVmomi's multi-line dump) or any other
    exception."""
    name = exc.__class__.__name__
    if hasattr(exc, '_wsdlName'):
        name = exc._wsdlName  # pylint: disable=protected-access
        messages = [getattr(m, 'message', None) for m in getattr(exc, 'faultMessage', None) or []]
        msg = getattr(exc, 'msg', None) or '; '.join(m for m in messages if m)
    else:
        msg = str(exc)
    msg = ' '.join(str(msg or '').split())
    return '%s: %s' % (name, msg) if msg else name


def vmodl_fault():
    """pyVmomi's base of every fault a vSphere method raises."""
    return pyvmomi()[1].MethodFault


class Session(object):
    """``with Session(params) as si:`` logs in and always logs out.

    Errors (missing options, wrong credentials, unreachable host, untrusted certificate) raise
    :class:`~plan.PlanError` naming the host and what to do; the password never appears in them.
    """

    def __init__(self, params):
        self.params = params
        self.si = None
        self.content = None

    def __enter__(self):
        missing = required_connection(self.params)
        if missing:
            raise PlanError('missing vSphere connection option(s) %s: set them on the task or in the VMWARE_HOST, '
                            'VMWARE_USER, VMWARE_PASSWORD environment variables' % ', '.join(missing))
        vim, _vmodl = pyvmomi()
        from pyVim.connect import SmartConnect  # pylint: disable=import-outside-toplevel
        host, port, user = self.params['hostname'], self.params['port'], self.params['username']
        where = '%s:%s' % (host, port)
        if self.params.get('validate_certs', True):
            context = ssl.create_default_context()
        else:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        try:
            self.si = SmartConnect(host=host, user=user, pwd=self.params['password'], port=port, sslContext=context,
                                   httpConnectionTimeout=self.params.get('timeout') or 600)
        except vim.fault.InvalidLogin:
            raise PlanError('login to vCenter/ESXi %s as %s failed: wrong user name or password' % (where, user))
        except ssl.SSLError as exc:
            if 'CERTIFICATE_VERIFY_FAILED' in str(exc):
                raise PlanError('the TLS certificate of %s is not trusted (%s): install its CA on the controller, '
                                'or set validate_certs: false for a lab' % (where, getattr(exc, 'verify_message', exc)))
            raise PlanError('TLS error talking to %s: %s' % (where, exc))
        except (socket.error, OSError) as exc:
            raise PlanError('cannot reach vCenter/ESXi at %s: %s; check hostname and port' % (where, exc))
        except vim.fault.VimFault as exc:
            raise PlanError('login to %s failed: %s' % (where, fault_text(exc)))
        except Exception as exc:  # pylint: disable=broad-except
            text = str(exc)
            raise PlanError('cannot connect to vCenter/ESXi at %s: %s' % (where, text or exc.__class__.__name__))
        self.content = self.si.RetrieveContent()
        return self.si

    def reconnect(self):
        """Log in again: a fresh connection and session after one failed. Returns the new si.

        The old session is not logged out: a request that got no answer may still run in it, and a logout could cancel
        it; it expires on the vCenter."""
        self.si = None
        return self.__enter__()

    def __exit__(self, *exc_info):
        if self.si is not None:
            try:
                self.content.sessionManager.Logout()
            except Exception:  # pylint: disable=broad-except
                pass
            self.si = None
        return False


class VsphereOperation(Operation):
    """An :class:`~plan.Operation` over the vSphere API (pyvmomi): every timeout option must be more than 0, and the
    session is one login (:class:`Session`), held until the result and always logged out.

    Subclasses implement :meth:`read` (the current state) and :meth:`changes` (the plan); :meth:`observe` logs in again
    first when a call of this run lost its connection, and :meth:`plan` passes every change through :meth:`guard`."""

    positive = TIMEOUT_OPTIONS

    def __init__(self, module):
        super(VsphereOperation, self).__init__(module)
        self._session = None
        self.connection_lost = False

    def session(self):
        self._session = Session(self.params)
        return self._session

    @property
    def content(self):
        """The ServiceContent of the session (valid from observe on)."""
        return self.session_value.content

    @property
    def where(self):
        return '%s:%s' % (self.params.get('hostname'), self.params.get('port'))

    def observe(self):
        if self.connection_lost and self._session is not None:
            self.session_value = self._session.reconnect()
            self.connection_lost = False
        return self.read()

    def read(self):
        """The current state, read in as few calls as the API allows."""
        raise NotImplementedError

    def plan(self, current):
        the_plan = self.changes(current)
        for change in the_plan.changes:
            self.guard(change)
        return the_plan

    def changes(self, current):
        """The :class:`~plan.Plan` (pure apart from building the changes' callables)."""
        raise NotImplementedError

    def call(self, what, function, *args):
        """``function(*args)``; a call that got no answer is :class:`~plan.OutcomeUnknown` (a refused connection, which
        sent nothing, :class:`VsphereError`), and the next :meth:`observe` logs in again."""
        try:
            return function(*args)
        except vmodl_fault() as exc:
            raise VsphereError('%s failed: %s' % (what, fault_text(exc)))
        except ConnectionRefusedError as exc:
            self.connection_lost = True
            raise VsphereError('%s: vCenter/ESXi %s refused the connection (%s), the request was not sent: check that the '
                               'vCenter is up, then run again' % (what, self.where, exc))
        except TRANSPORT_ERRORS as exc:
            self.connection_lost = True
            raise OutcomeUnknown(no_answer_text(self.where, exc, self.params.get('timeout')))

    def guard(self, change):
        """Wrap a change's apply and undo: transport errors become an unknown outcome (:meth:`call`); after one,
        :func:`plan.execute` undoes nothing (it could race the request the vCenter may still carry out)."""
        what = '%s %s' % (change.action, change.target)
        apply, undo = change.apply, change.undo
        change.apply = lambda: self.call(what, apply)
        change.undo = (lambda: self.call('undo ' + what, undo)) if undo is not None else None
        return change


def api_version(content):
    """The server's API version as a tuple of ints: (8, 0, 3, 0)."""
    parts = []
    for part in (content.about.apiVersion or '0').split('.'):
        try:
            parts.append(int(part))
        except ValueError:
            parts.append(0)
    return tuple(parts)


def wait_for_task(task, what, timeout=600):
    """Wait for a vSphere task: its result; :class:`VsphereError` with the task's fault text when it fails,
    :class:`~plan.OutcomeUnknown` when it has not finished after ``timeout`` seconds."""
    vim, _vmodl = pyvmomi()
    deadline = time.time() + timeout
    delay = 0.05
    while True:
        info = task.info
        if info.state == vim.TaskInfo.State.success:
            return info.result
        if info.state == vim.TaskInfo.State.error:
            raise VsphereError('%s failed: %s' % (what, fault_text(info.error)))
        if time.time() > deadline:
            raise OutcomeUnknown('%s did not finish within %d seconds (task %s)' % (what, timeout, task._moId))  # pylint: disable=protected-access
        time.sleep(delay)
        delay = min(delay * 2, 1.0)
