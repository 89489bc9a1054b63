# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Session handling: lazy pyvmomi import, login with clear errors, always logged out, task waiting."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import socket
import ssl
import time

from ansible_collections.gpuvirt.core.plugins.module_utils.plan import PlanError
from ansible_collections.gpuvirt.core.plugins.module_utils.vsphere.args import required_connection


class VsphereError(PlanError):
    """A vSphere problem (connection, unknown object, failed task) with a message that says what to do.

    A PlanError, so plan.run reports it with fail_json like any refusal, without a traceback."""


def pyvmomi():
    """(vim, vmodl) from pyVmomi, imported on first use."""
    try:
        from pyVmomi import vim, vmodl  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise VsphereError('the vSphere modules need the Python library pyvmomi (>= 8.0.3) on the host that runs '
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
    :class:`VsphereError` naming the host and what to do; the password never appears in them.
    """

    def __init__(self, params):
        self.params = params
        self.si = None
        self.content = None

    def __enter__(self):
        missing = required_connection(self.params)
        if missing:
            raise VsphereError('missing vSphere connection option(s) %s: set them on the task or in the VMWARE_HOST, '
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
            raise VsphereError('login to vCenter/ESXi %s as %s failed: wrong user name or password' % (where, user))
        except ssl.SSLError as exc:
            if 'CERTIFICATE_VERIFY_FAILED' in str(exc):
                raise VsphereError('the TLS certificate of %s is not trusted (%s): install its CA on the controller, '
                                   'or set validate_certs: false for a lab' % (where, getattr(exc, 'verify_message', exc)))
            raise VsphereError('TLS error talking to %s: %s' % (where, exc))
        except (socket.error, OSError) as exc:
            raise VsphereError('cannot reach vCenter/ESXi at %s: %s; check hostname and port' % (where, exc))
        except vim.fault.VimFault as exc:
            raise VsphereError('login to %s failed: %s' % (where, fault_text(exc)))
        except Exception as exc:  # pylint: disable=broad-except
            text = str(exc)
            raise VsphereError('cannot connect to vCenter/ESXi at %s: %s' % (where, text or exc.__class__.__name__))
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
    """Wait for a vSphere task; raise VsphereError with the task's fault text when it fails."""
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
            raise VsphereError('%s did not finish within %d seconds (task %s)' % (what, timeout, task._moId))  # pylint: disable=protected-access
        time.sleep(delay)
        delay = min(delay * 2, 1.0)
