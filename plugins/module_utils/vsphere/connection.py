# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vSphere session of the pyvmomi modules: lazy pyvmomi import, login with clear errors, always logged out, task
waiting, and :class:`VsphereOperation`, the :class:`~plan.Operation` base whose ``session()`` is that login.

Errors: what fails before the first write (pyvmomi missing, connection options, login, TLS) is a
:class:`~plan.PlanError`; a task that ends in an error is a :class:`VsphereError` (raised inside a change's apply, so
:func:`plan.execute` reports it as the failed change and undoes what was applied); a task that does not finish in time
is :class:`~plan.OutcomeUnknown` (it may still take effect; :func:`plan.run` reads the state again).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import socket
import ssl
import time

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


def fault_text(exc):
    """A short text for a vSphere fault or any other exception."""
    msg = getattr(exc, 'msg', None)
    name = exc.__class__.__name__
    if hasattr(exc, '_wsdlName'):
        name = exc._wsdlName  # pylint: disable=protected-access
    if msg:
        return '%s: %s' % (name, msg)
    return '%s: %s' % (name, exc) if str(exc) else name


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
    session is one login (:class:`Session`), held until the result and always logged out."""

    positive = TIMEOUT_OPTIONS

    def session(self):
        return Session(self.params)

    @property
    def content(self):
        """The ServiceContent of the session (valid from observe on)."""
        return self.session_value.content


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
            error = info.error
            text = getattr(error, 'msg', None) or getattr(info.error, 'localizedMessage', None) or str(error)
            name = getattr(error, '_wsdlName', error.__class__.__name__)
            raise VsphereError('%s failed: %s: %s' % (what, name, text))
        if time.time() > deadline:
            raise OutcomeUnknown('%s did not finish within %d seconds (task %s)' % (what, timeout, task._moId))  # pylint: disable=protected-access
        time.sleep(delay)
        delay = min(delay * 2, 1.0)
