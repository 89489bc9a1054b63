"""plugins/module_utils/pci.py: one place for NVIDIA's vendor id, PCI ids and addresses."""
import pytest

from ansible_collections.gpuvirt.core.plugins.module_utils import pci


@pytest.mark.parametrize('value,number', [(4318, 0x10de), ('10de', 0x10de), ('0x10DE', 0x10de), (' 2236 ', 0x2236), (0xffff, 0xffff)])
def test_parse_id_spellings(value, number):
    assert pci.parse_id(value, 'vendor_id') == number


@pytest.mark.parametrize('value,text', [(True, 'is not a PCI id'), ('nvidia', 'use an integer'), (0, 'out of range'),
                                        (0x10000, 'out of range'), ('-1', 'out of range')])
def test_parse_id_refuses_naming_the_input(value, text):
    with pytest.raises(pci.PciIdError) as info:
        pci.parse_id(value, 'devices[2].vendor_id')
    assert str(info.value).startswith('devices[2].vendor_id') and text in str(info.value)


def test_hex_id_as_int_and_vendor():
    assert pci.hex_id(0x10de) == pci.hex_id('0x10DE') == pci.hex_id('10de') == pci.NVIDIA_VENDOR_HEX
    assert pci.hex_id(None) == pci.hex_id(True) == pci.hex_id('zz') == ''
    assert pci.as_int('0x10de') == pci.as_int('10de') == 0x10de and pci.as_int('4') == 4 and pci.as_int(False, 7) == 7
    assert pci.is_nvidia(4318) and pci.is_nvidia('0x10de') and not pci.is_nvidia('8086') and not pci.is_nvidia(None)
    assert pci.NVIDIA_VENDOR_SYSFS == '0x10de' and pci.u16(-4) == 0xfffc and pci.u16(None) == 0


def test_addresses():
    assert pci.normalize_address('3B:00.0') == pci.normalize_address('0000:3b:00.0') == '0000:3b:00.0'
    assert pci.normalize_address('3b:00.8') is None and pci.normalize_address(None) is None
    assert pci.full_address('3B:00.0') == '0000:3b:00.0' and pci.full_address('') is None
    assert pci.full_address('PCI0') == 'pci0'
