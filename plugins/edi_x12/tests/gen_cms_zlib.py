#!/usr/bin/env python3
"""gen_cms_zlib.py - writes CMS CompressedData (RFC 3274) made independently
of Dray's encoder: Python's zlib and ASN.1 assembled here by hand, for the
edi_x12 AS2 tests and the fuzz seed corpus.

  gen_cms_zlib.py der      CONTENT OUT   DER, parameters absent
  gen_cms_zlib.py der-null CONTENT OUT   DER, parameters NULL
  gen_cms_zlib.py ber      CONTENT OUT   BER: indefinite lengths everywhere,
                                         eContent a constructed OCTET STRING
                                         in 100-byte segments (one nested)
  gen_cms_zlib.py bomb     N OUT         DER of N zero bytes (streamed)
"""
import sys
import zlib

OID_COMPRESSED_DATA = bytes.fromhex("2a864886f70d0109100109")
OID_ZLIB = bytes.fromhex("2a864886f70d0109100308")
OID_DATA = bytes.fromhex("2a864886f70d010701")


def tlv(tag, body):
    n = len(body)
    if n < 0x80:
        length = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + length + body


def indef(tag, *children):
    return bytes([tag, 0x80]) + b"".join(children) + b"\x00\x00"


def der(z, null_params=False):
    alg = tlv(0x06, OID_ZLIB) + (b"\x05\x00" if null_params else b"")
    eci = tlv(0x30, tlv(0x06, OID_DATA) + tlv(0xA0, tlv(0x04, z)))
    cd = tlv(0x30, tlv(0x02, b"\x00") + tlv(0x30, alg) + eci)
    return tlv(0x30, tlv(0x06, OID_COMPRESSED_DATA) + tlv(0xA0, cd))


def ber(z):
    segs = [tlv(0x04, z[i:i + 100]) for i in range(0, len(z), 100)]
    if len(segs) > 2:  # BER allows constructed segments inside segments
        segs[1:3] = [indef(0x24, segs[1], segs[2])]
    octets = indef(0x24, *segs)
    eci = indef(0x30, tlv(0x06, OID_DATA), indef(0xA0, octets))
    cd = indef(0x30, tlv(0x02, b"\x00"), indef(0x30, tlv(0x06, OID_ZLIB)), eci)
    return indef(0x30, tlv(0x06, OID_COMPRESSED_DATA), indef(0xA0, cd))


def main():
    mode, src, out = sys.argv[1], sys.argv[2], sys.argv[3]
    if mode == "bomb":
        c = zlib.compressobj(9)
        block = bytes(1 << 20)
        n = int(src)
        z = b""
        while n > 0:
            k = min(n, len(block))
            z += c.compress(block[:k])
            n -= k
        z += c.flush()
        data = der(z)
    else:
        with open(src, "rb") as f:
            z = zlib.compress(f.read())
        data = {"der": lambda: der(z), "der-null": lambda: der(z, True),
                "ber": lambda: ber(z)}[mode]()
    with open(out, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main()
