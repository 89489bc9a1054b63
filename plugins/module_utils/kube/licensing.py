# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The licensing object the GPU Operator mounts into the driver (vgpu_license).

Facts §5 [S7 consts.go] and §7: keys ``gridd.conf`` (mounted at /drivers/gridd.conf) and
``client_configuration_token.tok`` (the NLS client configuration token); a Secret named by ClusterPolicy
``driver.licensingConfig.secretName`` (current operators), a ConfigMap named by the deprecated ``configMapName``
(operators before v25.10, seed 004). ``FeatureType``: 0 unlicensed, 1 NVIDIA vGPU, 2 RTX vWS, 4 vCS.

The token is a secret: results and diffs carry only its SHA-256.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import hashlib
import re

from ansible_collections.gpuvirt.core.plugins.module_utils.plan import PlanError

GRIDD_KEY = 'gridd.conf'
TOKEN_KEY = 'client_configuration_token.tok'
FEATURE_TYPES = (0, 1, 2, 4)
_CONF_KEY = re.compile(r'^[A-Za-z][A-Za-z0-9]*$')


# The settings NVIDIA documents for gridd.conf (the driver's gridd.conf.template and the NVIDIA License System
# User Guide, "Configuring a Licensed Client on Linux"): name -> kind of value. FeatureType is the module's
# feature_type option. Checked: ServerAddress, ServerPort, BackupServerAddress, BackupServerPort, EnableUI
# (TRUE/FALSE), LicenseInterval (10..10080 min), LingerInterval (0..10080 min) and FeatureType 0/1/2/4 against the
# driver's gridd.conf.template as reproduced in public deployment guides; ClientConfigTokenPath as used by public
# NLS client set-up scripts. [UNVERIFIED] the four Proxy* names: from the NLS user guide's proxy section as the
# reference sheet summarises it, not seen in a template.
GRIDD_SETTINGS = {
    'ServerAddress': 'address', 'ServerPort': 'port',
    'BackupServerAddress': 'address', 'BackupServerPort': 'port',
    'EnableUI': 'bool', 'LicenseInterval': (10, 10080), 'LingerInterval': (0, 10080),
    'ClientConfigTokenPath': 'path',
    'ProxyServerAddress': 'address', 'ProxyServerPort': 'port', 'ProxyUserName': 'text',
    'ProxyCredentialsFilePath': 'path',
}


def _setting_value(key, value):
    """The text of one gridd.conf value; PlanError naming gridd_conf.KEY and the value when it is not valid."""
    where = 'gridd_conf.%s' % key
    kind = GRIDD_SETTINGS[key]
    if value is None or isinstance(value, (dict, list, tuple, set)):
        raise PlanError('%s %r is not a value gridd.conf can hold (a string, number or boolean)' % (where, value), option=where)
    if kind == 'bool':
        if isinstance(value, bool):
            return str(value).lower()
        if str(value).upper() not in ('TRUE', 'FALSE'):
            raise PlanError('%s %r must be true or false (TRUE or FALSE in gridd.conf)' % (where, value), option=where)
        return str(value)
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if '\n' in text or '\r' in text:
        raise PlanError('%s %r contains a line break: each gridd.conf setting is one line' % (where, value), option=where)
    if kind == 'port' or isinstance(kind, tuple):
        low, high = (1, 65535) if kind == 'port' else kind
        if isinstance(value, bool) or not re.match(r'^\d+$', text.strip()) or not low <= int(text) <= high:
            raise PlanError('%s %r must be a whole number from %d to %d' % (where, value, low, high), option=where)
        return text.strip()
    if not text.strip() or (kind != 'text' and re.search(r'\s', text.strip())):
        raise PlanError('%s %r must be one word without blanks (a host name, address or path)' % (where, value), option=where)
    if kind == 'path' and not text.startswith('/'):
        raise PlanError('%s %r must be an absolute path on the node' % (where, value), option=where)
    return text


def check_gridd_conf(extra):
    """PlanError naming the first bad key or value of the ``gridd_conf`` option; else {key: value text}."""
    out = {}
    by_lower = dict((k.lower(), k) for k in GRIDD_SETTINGS)
    for key in sorted(extra or {}, key=str):
        shown_key = str(key)
        if not isinstance(key, str) or not _CONF_KEY.match(key):
            raise PlanError('gridd_conf key %r is not a gridd.conf setting name: letters and digits only, no blanks, '
                            'line breaks or "="' % (key,), option='gridd_conf')
        if key.lower() == 'featuretype':
            raise PlanError('gridd_conf key %s (%r) is set by the feature_type option (%s); leave it out of gridd_conf'
                            % (key, extra[key], ', '.join(str(t) for t in FEATURE_TYPES)), option='gridd_conf')
        if key not in GRIDD_SETTINGS:
            hint = ('; the setting is spelled %s' % by_lower[key.lower()]) if key.lower() in by_lower else ''
            raise PlanError('gridd_conf key %s is not a gridd.conf setting NVIDIA documents (%s)%s'
                            % (shown_key, ', '.join(sorted(GRIDD_SETTINGS)), hint), option='gridd_conf')
        out[key] = _setting_value(key, extra[key])
    return out


def gridd_conf(feature_type, extra=None):
    """The gridd.conf text: FeatureType first, then the extra keys sorted. PlanError on a bad key or value."""
    if isinstance(feature_type, bool) or feature_type not in FEATURE_TYPES:
        raise PlanError('feature_type %r is not a gridd.conf FeatureType: %s' % (feature_type, ', '.join(str(t) for t in FEATURE_TYPES)),
                        option='feature_type')
    lines = ['# NVIDIA vGPU licensing, written by gpuvirt.core', 'FeatureType=%d' % feature_type]
    for key, value in sorted(check_gridd_conf(extra).items()):
        lines.append('%s=%s' % (key, value))
    return '\n'.join(lines) + '\n'


def fingerprint(text):
    return 'sha256:' + hashlib.sha256(text.encode('utf-8')).hexdigest()


def decoded_data(kind, obj):
    """{key: text} of the object's data (Secret values base64-decoded); unreadable values become None."""
    data = (obj or {}).get('data') or {}
    if kind == 'ConfigMap':
        return dict(data)
    out = {}
    for key, value in data.items():
        try:
            out[key] = base64.b64decode(value).decode('utf-8')
        except (ValueError, TypeError, UnicodeDecodeError):
            out[key] = None
    return out


def shown(content):
    """What results and diffs may show: gridd.conf as is, the token as its hash."""
    if content is None:
        return None
    out = {}
    if GRIDD_KEY in content:
        out[GRIDD_KEY] = content[GRIDD_KEY]
    if content.get(TOKEN_KEY) is not None:
        out[TOKEN_KEY] = fingerprint(content[TOKEN_KEY])
    return out


def plan_license(kind, existing, desired, state):
    """Pure planner: 'create', 'update', 'delete' or None, comparing only our two keys."""
    if state == 'absent':
        return 'delete' if existing is not None else None
    if existing is None:
        return 'create'
    current = decoded_data(kind, existing)
    if any(not _same(key, current.get(key), value) for key, value in desired.items()):
        return 'update'
    return None


def settings(text):
    """gridd.conf's settings as nvidia-gridd reads them: ``Key=Value`` lines, comments and blank lines ignored."""
    out = {}
    for line in (text or '').splitlines():
        line = line.strip()
        if line and not line.startswith('#') and '=' in line:
            key, value = line.split('=', 1)
            out[key.strip()] = value.strip()
    return out


def _same(key, current, wanted):
    """A gridd.conf written by hand (seed 003: ``kubectl create configmap --from-file=gridd.conf``) with the same
    settings is the same licence configuration; the token must match exactly."""
    if key == GRIDD_KEY and current is not None:
        return settings(current) == settings(wanted)
    return current == wanted


def encode(kind, content):
    if kind == 'ConfigMap':
        return dict(content)
    return dict((k, base64.b64encode(v.encode('utf-8')).decode('ascii')) for k, v in content.items())


def read_token(params):
    if params.get('token') is not None:
        token = params['token']
    else:
        try:
            with open(params['token_file'], 'rb') as stream:
                token = stream.read().decode('utf-8')
        except (IOError, OSError) as exc:
            raise PlanError('cannot read token_file %s: %s' % (params['token_file'], exc.strerror or exc))
        except UnicodeDecodeError:
            raise PlanError('token_file %s is not a text file; expected the client configuration token (.tok)' % params['token_file'])
    token = token.strip()
    if not token:
        raise PlanError('the client configuration token is empty; download it from the NVIDIA Licensing Portal (.tok)')
    return token
