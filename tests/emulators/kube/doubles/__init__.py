"""Doubles of the controllers and admission webhooks the Kubernetes test world has no real program for (the GPU
Operator's operands, KubeVirt's virt-controller and virt-api, CAPV's webhook, the namespace controller), talking to
the real kube-apiserver; see ../README.md for what each does and its upstream source."""
