"""Certificates and keys of the Kubernetes test world (what kubeadm's certs phase makes, for one machine).

A CA, the API server's serving certificate (127.0.0.1, localhost and the in-cluster names), a client certificate
for the admin user (group ``system:masters``), the serving certificate of the webhook doubles (127.0.0.1) and the
service-account signing key. Private keys are written with mode 0600.
"""
import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DAYS = 30


def _key():
    return ec.generate_private_key(ec.SECP256R1())


def _write(path, data, private=False):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, 'wb') as stream:
        stream.write(data)


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def _builder(subject, issuer, public_key):
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=DAYS)))


def _leaf(ca_key, ca_cert, common_name, organization=None, dns=(), ips=(), server=True):
    key = _key()
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attributes.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    builder = _builder(x509.Name(attributes), ca_cert.subject, key.public_key())
    builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    builder = builder.add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=False, content_commitment=False,
                                                  data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                                  crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    names = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return key, builder.sign(ca_key, hashes.SHA256())


def create(directory):
    """Write every file into ``directory``; returns {name: path}."""
    os.makedirs(directory, exist_ok=True)
    ca_key = _key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'gpuvirt-test-world-ca')])
    ca_cert = (_builder(ca_name, ca_name, ca_key.public_key())
               .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=False, content_commitment=False,
                                            data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                            crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
               .sign(ca_key, hashes.SHA256()))
    paths = {}

    def save(name, cert, key):
        paths[name + '.crt'] = os.path.join(directory, name + '.crt')
        paths[name + '.key'] = os.path.join(directory, name + '.key')
        _write(paths[name + '.crt'], _cert_pem(cert))
        _write(paths[name + '.key'], _key_pem(key), private=True)

    save('ca', ca_cert, ca_key)
    save('apiserver', *reversed(_leaf(ca_key, ca_cert, 'kube-apiserver',
                                      dns=('localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc',
                                           'kubernetes.default.svc.cluster.local'),
                                      ips=('127.0.0.1', '10.96.0.1'))))
    save('admin', *reversed(_leaf(ca_key, ca_cert, 'gpuvirt-admin', organization='system:masters', server=False)))
    save('webhooks', *reversed(_leaf(ca_key, ca_cert, 'gpuvirt-webhook-doubles', dns=('localhost',), ips=('127.0.0.1',))))
    sa_key = _key()
    paths['sa.key'] = os.path.join(directory, 'sa.key')
    paths['sa.pub'] = os.path.join(directory, 'sa.pub')
    _write(paths['sa.key'], _key_pem(sa_key), private=True)
    public = sa_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    _write(paths['sa.pub'], public)
    return paths
