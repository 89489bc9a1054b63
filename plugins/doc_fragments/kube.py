# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpuvirt.core contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # Mirrors SPECS["kube"] in plugins/module_utils/args.py.
    DOCUMENTATION = r'''
options:
  kubeconfig:
    description:
      - Path to a kubeconfig file, or the kubeconfig itself as a dictionary.
      - Without it, and without O(host), C(KUBECONFIG) or C(~/.kube/config) is used, then the in-cluster service account.
      - The environment variable E(K8S_AUTH_KUBECONFIG) is used when unset.
    type: raw
  context:
    description:
      - The kubeconfig context to use; its current context when unset.
      - The environment variable E(K8S_AUTH_CONTEXT) is used when unset.
    type: str
  host:
    description:
      - URL of the Kubernetes API server. Overrides the server of the kubeconfig.
      - The environment variable E(K8S_AUTH_HOST) is used when unset.
    type: str
  api_key:
    description:
      - Bearer token for the API server. Overrides the kubeconfig's credentials. Never printed.
      - The environment variable E(K8S_AUTH_API_KEY) is used when unset.
    type: str
  validate_certs:
    description:
      - Whether to verify the API server's TLS certificate. Defaults to the kubeconfig's setting, else V(true).
      - The environment variable E(K8S_AUTH_VERIFY_SSL) is used when unset.
    type: bool
    aliases: [verify_ssl]
  ca_cert:
    description:
      - CA bundle to verify the API server with. Overrides the kubeconfig's.
      - The environment variable E(K8S_AUTH_SSL_CA_CERT) is used when unset.
    type: path
    aliases: [ssl_ca_cert]
  client_cert:
    description:
      - Client certificate for the API server. Overrides the kubeconfig's.
      - The environment variable E(K8S_AUTH_CERT_FILE) is used when unset.
    type: path
    aliases: [cert_file]
  client_key:
    description:
      - Key of O(client_cert).
      - The environment variable E(K8S_AUTH_KEY_FILE) is used when unset.
    type: path
    aliases: [key_file]
  request_timeout:
    description:
      - Seconds to wait for each API request; more than 0 (checked before the first request).
    type: int
    default: 30
requirements:
  - kubernetes >= 30.1.0 (Python library, on the host running the module; used to read kubeconfig files)
notes:
  - Talks to the API with JSON merge patches carrying a C(metadata.resourceVersion) precondition and retries on 409
    Conflict, so a concurrent writer (an operator, another job) is never overwritten. It never uses strategic merge
    patch on custom resources.
'''
