#!/usr/bin/env python3
"""make_seeds.py - writes the small seed corpus of the fuzz targets from the
shipped definitions (seeds/flat/*.idoc, seeds/xml/*.xml)."""
import os

here = os.path.dirname(os.path.abspath(__file__))
defs = {}
for fn in os.listdir(os.path.join(here, "..", "defs")):
    if not fn.endswith(".idef"):
        continue
    cur = None
    for line in open(os.path.join(here, "..", "defs", fn)):
        w = line.split()
        if not w or w[0].startswith("#"):
            continue
        if w[0] == "IDOC":
            typ = w[1]
        elif w[0] == "SEG":
            cur = (typ, w[1])
            defs[cur] = {"def": w[2], "level": w[4], "fields": {}}
        elif w[0] == "F":
            defs[cur]["fields"][w[1]] = (int(w[2]), int(w[3]))


def put(rec, col, val):
    rec.extend(" " * (col - 1 + len(val) - len(rec)))
    rec[col - 1:col - 1 + len(val)] = list(val)


def dc40(idoctyp, mestyp, docnum):
    r = []
    for col, v in ((1, "EDI_DC40"), (11, "100"), (14, docnum), (40, idoctyp),
                   (100, mestyp), (163, "PRDCLNT100"), (379, "20240514")):
        put(r, col, v)
    return "".join(r).ljust(524)


def dd40(idoctyp, seg, docnum, segnum, psgnum, fields, trim):
    d = defs[(idoctyp, seg)]
    r = []
    put(r, 1, d["def"])
    put(r, 31, "100")
    put(r, 34, docnum)
    put(r, 50, "%06d" % segnum)
    put(r, 56, "%06d" % psgnum)
    put(r, 62, d["level"])
    for k, v in fields.items():
        put(r, d["fields"][k][0], v)
    s = "".join(r)
    return s.rstrip() if trim else s.ljust(1063)


def write(name, text):
    with open(os.path.join(here, "seeds", name), "w", encoding="utf-8") as f:
        f.write(text)


os.makedirs(os.path.join(here, "seeds", "flat"), exist_ok=True)
os.makedirs(os.path.join(here, "seeds", "xml"), exist_ok=True)
d = "0000000000000042"
orders = [dc40("ORDERS05", "ORDERS", d),
          dd40("ORDERS05", "E1EDK01", d, 1, 0, {"CURCY": "EUR", "BELNR": "45001"}, True),
          dd40("ORDERS05", "E1EDKA1", d, 2, 0, {"PARVW": "AG", "NAME1": "M\u00e9xico SA"}, True),
          dd40("ORDERS05", "E1EDP01", d, 3, 0, {"POSEX": "10", "MENGE": "2.5"}, True),
          dd40("ORDERS05", "E1EDP19", d, 4, 3, {"QUALF": "002", "IDTNR": "MAT-1"}, True)]
write("flat/orders05.idoc", "\n".join(orders) + "\n")
write("flat/orders05_crlf_padded.idoc",
      "\r\n".join([orders[0]] + [dd40("ORDERS05", "E1EDK01", d, 1, 0, {"BELNR": "X"}, False)]) + "\r\n")
systat = [dc40("SYSTAT01", "STATUS", d),
          dd40("SYSTAT01", "E1STATS", d, 1, 0, {"DOCNUM": "0000000000000007", "STATUS": "53", "LOGDAT": "20240516"}, True)]
write("flat/systat01.idoc", "\n".join(systat) + "\n")
delv = [dc40("DELVRY07", "DESADV", d),
        dd40("DELVRY07", "E1EDL20", d, 1, 0, {"VBELN": "80001", "BTGEW": "10", "GEWEI": "KGM"}, True),
        dd40("DELVRY07", "E1EDL24", d, 2, 1, {"POSNR": "10", "LFIMG": "1"}, True),
        dd40("DELVRY07", "E1EDL37", d, 3, 1, {"EXIDV": "00340123450000000017"}, True),
        dd40("DELVRY07", "E1EDL44", d, 4, 3, {"VELIN": "1", "POSNR": "10"}, True)]
write("flat/delvry07.idoc", "\n".join(delv) + "\n")

write("xml/orders05.xml", '<?xml version="1.0" encoding="UTF-8"?>\n<ORDERS05><IDOC BEGIN="1">'
      '<EDI_DC40 SEGMENT="1"><DOCNUM>0000000000000042</DOCNUM><IDOCTYP>ORDERS05</IDOCTYP>'
      '<MESTYP>ORDERS</MESTYP><SNDPRN>PRD</SNDPRN></EDI_DC40><E1EDK01 SEGMENT="1"><BELNR>45001</BELNR>'
      '</E1EDK01><E1EDP01 SEGMENT="1"><POSEX>10</POSEX><MENGE>2</MENGE><E1EDP19 SEGMENT="1">'
      '<QUALF>001</QUALF><IDTNR>A&amp;B</IDTNR></E1EDP19></E1EDP01></IDOC></ORDERS05>\n')
write("xml/shpmnt05.xml", '<SHPMNT05><IDOC BEGIN="1"><EDI_DC40 SEGMENT="1"><IDOCTYP>SHPMNT05</IDOCTYP>'
      '<MESTYP>SHPMNT</MESTYP></EDI_DC40><E1EDT20 SEGMENT="1"><TKNUM>1</TKNUM><E1EDK33 SEGMENT="1">'
      '<TSNUM>1</TSNUM><VSTEL>1000</VSTEL><KUNNZ>7</KUNNZ></E1EDK33></E1EDT20></IDOC></SHPMNT05>\n')
write("xml/aleaud01.xml", '<ALEAUD01><IDOC BEGIN="1"><EDI_DC40 SEGMENT="1"><IDOCTYP>ALEAUD01</IDOCTYP>'
      '<MESTYP>ALEAUD</MESTYP></EDI_DC40><E1ADHDR SEGMENT="1"><MESTYP>INVOIC</MESTYP><E1STATE SEGMENT="1">'
      '<DOCNUM>12</DOCNUM><STATUS>53</STATUS><E1PRTOB SEGMENT="1"><OBJKEY>X</OBJKEY></E1PRTOB>'
      '</E1STATE></E1ADHDR></IDOC></ALEAUD01>\n')
write("xml/unknown_type.xml", '<ZCUST01><IDOC BEGIN="1"><EDI_DC40 SEGMENT="1"><IDOCTYP>ZCUST01</IDOCTYP>'
      '</EDI_DC40><_-ABC_-Z1HEAD SEGMENT="1"><F>1</F><Z1SUB><G>2</G></Z1SUB></_-ABC_-Z1HEAD></IDOC></ZCUST01>\n')
print("seeds written")
