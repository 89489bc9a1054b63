"""Build ESXi VIB files for tests and the demo: an ar archive whose first member is descriptor.xml, then an
(empty) signature and a payload, the layout the simulated hosts of vcsim-gpu read (addon/software.go).

    python tests/emulators/vcsim/vib.py OUT.vib --name NVD-VGPU-800 --version 550.90.05-1OEM.800.1.0.20613240
        [--vendor NVD] [--acceptance accepted] [--summary TEXT] [--live-install] [--no-maintenance-mode]

The descriptor fields are those of a real VIB's descriptor.xml that the simulator uses: type, name, version,
vendor, summary, release-date, acceptance-level (certified | accepted | partner | community),
system-requires/maintenance-mode and live-install-allowed.
"""
import argparse
import gzip
import time
from xml.sax.saxutils import escape


def _member(name, data):
    header = '%-16s%-12d%-6d%-6d%-8o%-10d`\n' % (name + '/', int(time.time()), 0, 0, 0o100644, len(data))
    out = header.encode('ascii') + data
    if len(data) % 2:
        out += b'\n'
    return out


def descriptor(name, version, vendor='NVD', acceptance='accepted', summary='', maintenance_mode=True, live_install=False):
    return ('<vib version="5.0">\n'
            '  <type>bootbank</type>\n'
            '  <name>%s</name>\n'
            '  <version>%s</version>\n'
            '  <vendor>%s</vendor>\n'
            '  <summary>%s</summary>\n'
            '  <release-date>2024-06-25T00:00:00</release-date>\n'
            '  <acceptance-level>%s</acceptance-level>\n'
            '  <system-requires><maintenance-mode>%s</maintenance-mode></system-requires>\n'
            '  <live-install-allowed>%s</live-install-allowed>\n'
            '  <live-remove-allowed>%s</live-remove-allowed>\n'
            '</vib>\n') % (escape(name), escape(version), escape(vendor), escape(summary or name), escape(acceptance),
                           str(maintenance_mode).lower(), str(live_install).lower(), str(live_install).lower())


def build_vib(path, name, version, **fields):
    """Write a VIB to ``path`` (fields: vendor, acceptance, summary, maintenance_mode, live_install)."""
    data = b'!<arch>\n'
    data += _member('descriptor.xml', descriptor(name, version, **fields).encode())
    data += _member('sig.pkcs7', b'')
    data += _member(name.lower()[:15], gzip.compress(b'payload of ' + name.encode() + b' ' + version.encode()))
    with open(path, 'wb') as handle:
        handle.write(data)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out')
    parser.add_argument('--name', required=True)
    parser.add_argument('--version', required=True)
    parser.add_argument('--vendor', default='NVD')
    parser.add_argument('--acceptance', default='accepted', choices=['certified', 'accepted', 'partner', 'community'])
    parser.add_argument('--summary', default='')
    parser.add_argument('--live-install', action='store_true')
    parser.add_argument('--no-maintenance-mode', action='store_true')
    args = parser.parse_args(argv)
    build_vib(args.out, args.name, args.version, vendor=args.vendor, acceptance=args.acceptance, summary=args.summary,
              maintenance_mode=not args.no_maintenance_mode, live_install=args.live_install)
    print(args.out)


if __name__ == '__main__':
    main()
