#!/usr/bin/env python3
"""gen_defs.py - writes the shipped *.idef definition files.

Usage: python3 gen_defs.py IDOC-SEGMENTS.md OUTDIR

Input: the condensed notation of SAP's WE60 parser export used in the
project's docs/IDOC-SEGMENTS.md (ORDERS05, DELVRY07, INVOIC02), plus the
types written below from SAP's documentation (SHPMNT05, SYSTAT01, ALEAUD01).
Each segment line: TYPE (DEFNAME) Lnn M|O min..max: FIELD/len ...; fields
start at column 64 and follow each other. "group n" lines open a group whose
first segment is the parent of the rest (indentation closes groups).

The condensed notation keeps each segment's own counts but not the group's
loop counts: a group head gets GROUP_HEAD below (optional, 1..9999999999)
unless HEAD_OVERRIDES says otherwise. A WE60 parser export dropped into
definitions_dir gives SAP's exact counts and replaces the shipped type.
"""
import re, sys, os

HEAD_DEFAULT = ("O", 1, 9999999999)
HEAD_OVERRIDES = {("DELVRY07", "E1EDL20"): ("M", 1, 1),
                  ("SHPMNT05", "E1EDT20"): ("M", 1, 1)}
MANDATORY_FIELDS = {("SYSTAT01", "E1STATS"): {"STATUS"},
                    ("ALEAUD01", "E1STATE"): {"STATUS"},
                    ("SHPMNT05", "E1EDT20"): {"TKNUM"}}
NUMC_FIELDS = {"LOGDAT": "DATS", "LOGTIM": "TIMS"}

# Types not in IDOC-SEGMENTS.md, written from SAP's segment documentation.
# SHPMNT05: shipment header E1EDT20 with its deadlines (E1EDT10), control
# (E1EDT18), partners (E1ADRM4), stages (E1EDK33 with stage points E1ADRM6),
# handling units (E1EDT37/E1EDT44) and deliveries (E1EDL20 ... as in
# DELVRY07, reduced to the segments Dray maps). A segment written ": ="
# has the fields IDOC-SEGMENTS.md documents for the same definition name
# (E2EDL20004, E2ADRM1001, E2EDT13001, E2EDL24007, E2EDL41000: one layout
# whichever type uses it).
# SYSTAT01: E1STATS in the order and lengths of SAP's E2STATS documentation
# (help.sap.com, "E2STATS - EDI Status Record": ... SEGFLD/10, STAPA1-4/20,
# REFINT, REFGRP, REFMES, ARCKEY, STATYP last), then the fields release 4.0
# appended to status segments (as SAP documents for ALEAUD01's E1STATE:
# STAMQU, STAMID, STAMNO and STAPA1_LNG..STAPA4_LNG; later segment versions
# only append).
# ALEAUD01: SAP's "Segments of Audit IDoc ALEAUD01": E1ADHDR MESTYP/6 (left
# empty for message types without a 6-character name, so not mandatory),
# MESTYP_LNG/30; E1STATE with the 4.0 fields; E1PRTOB with LOGSYS between
# DOCNUM and OBJTYPE.
EXTRA = """
## SHPMNT05
```
group 1
  E1EDT20 (E2EDT20003) L01 M 1..1: TKNUM/10 SHTYP/4 ABFER/1 ABWST/1 BFART/1 VSART/2 LAUFK/1 VSBED/2 ROUTE/6 SIGNI/20 EXTI1/20 EXTI2/20 TPBEZ/20 STTRG/1 PKSTK/1 DTMEG/3 DTMEV/3 DISTZ/15 MEDST/3 FAHZT/7 GESZT/7 MEIZT/3 FBSTA/1 FBGST/1 ARSTA/1 ARGST/1 STERM_DONE/1 VSE_FRK/1 KKALSM/6 SDABW/4 FRKRL/1 GESZTD/11 FAHZTD/11 GESZTDA/11 FAHZTDA/11 WARZTD/11 WARZTDA/11 SHPMNT_ID/20 TDLNR/10 TNDRST/2 TNDR_TRKID/35
  E1EDT22 (E2EDT22001) L02 O 1..1: SHTYP_BEZ/20 ABFER_BEZ/60 ABWST_BEZ/60 BFART_BEZ/60 VSART_BEZ/20 LAUFK_BEZ/60 VSBED_BEZ/20 ROUTE_BEZ/40 STTRG_BEZ/60
  E1EDT18 (E2EDT18) L02 O 1..99: QUALF/3 PARAM/20
  E1EDT10 (E2EDT10002) L02 O 1..99: QUALF/3 VSTZW/4 VSTZW_BEZ/20 NTANF/8 NTANZ/6 NTEND/8 NTENZ/6 TZONE_BEG/6 ISDD/8 ISDZ/6 IEDD/8 IEDZ/6 TZONE_END/6 VORNR/4 VSTGA/4 VSTGA_BEZ/20 EVENT/10 EVENT_ALI/20
  group 2
    E1ADRM4 (E2ADRM4002) L02 M 1..1: PARTNER_Q/3 ADDRESS_T/1 PARTNER_ID/17 JURISDIC/17 LANGUAGE/2 FORMOFADDR/15 NAME1/40 NAME2/40 NAME3/40 NAME4/40 NAME_TEXT/50 NAME_CO/40 LOCATION/40 BUILDING/10 FLOOR/10 ROOM/10 STREET1/40 STREET2/40 STREET3/40 HOUSE_SUPL/4 HOUSE_RANG/10 POSTL_COD1/10 POSTL_COD3/10 POSTL_AREA/15 CITY1/40 CITY2/40 POSTL_PBOX/10 POSTL_COD2/10 POSTL_CITY/40 TELEPHONE1/30 TELEPHONE2/30 TELEFAX/30 TELEX/30 E_MAIL/70 COUNTRY1/3 COUNTRY2/3 REGION/3 COUNTY_COD/3 COUNTY_TXT/25 TZCODE/6 TZDESC/35
    E1ADRE4 (E2ADRE4000) L03 O 1..10: EXTEND_Q/3 EXTEND_D/70
  group 3
    E1EDK33 (E2EDK33003) L02 M 1..1: TSNUM/4 TSRFO/4 TSTYP/1 VSART/2 VSART_BEZ/20 ROUTE/6 ROUTE_BEZ/40 DISTZ/15 MEDST/3 FAHZT/7 GESZT/7 MEIZT/3 GESZTD/11 FAHZTD/11 KNOTA/10 VSTEL/4 LSTEL/2 WERKA/4 LGORTA/4 KUNNA/10 LIFNA/10 ABLADA/25 KNOTZ/10 VSTEZ/4 LSTEZ/2 WERKZ/4 LGORTZ/4 KUNNZ/10 LIFNZ/10 ABLADZ/25 TDLNR/10 DTABF/8 UZABF/6 DTANK/8 UZANK/6 LAUFK/1
    group 4
      E1ADRM6 (E2ADRM6002) L03 M 1..1: PARTNER_Q/3 ADDRESS_T/1 PARTNER_ID/17 JURISDIC/17 LANGUAGE/2 FORMOFADDR/15 NAME1/40 NAME2/40 NAME3/40 NAME4/40 NAME_TEXT/50 NAME_CO/40 LOCATION/40 BUILDING/10 FLOOR/10 ROOM/10 STREET1/40 STREET2/40 STREET3/40 HOUSE_SUPL/4 HOUSE_RANG/10 POSTL_COD1/10 POSTL_COD3/10 POSTL_AREA/15 CITY1/40 CITY2/40 POSTL_PBOX/10 POSTL_COD2/10 POSTL_CITY/40 TELEPHONE1/30 TELEPHONE2/30 TELEFAX/30 TELEX/30 E_MAIL/70 COUNTRY1/3 COUNTRY2/3 REGION/3 COUNTY_COD/3 COUNTY_TXT/25 TZCODE/6 TZDESC/35
      E1ADRE6 (E2ADRE6000) L04 O 1..10: EXTEND_Q/3 EXTEND_D/70
    E1EDT06 (E2EDT06000) L03 O 1..99: QUALF/3 NTANF/8 NTANZ/6 NTEND/8 NTENZ/6 ISDD/8 ISDZ/6 IEDD/8 IEDZ/6 TZONE/6
  group 5
    E1EDT37 (E2EDT37005) L02 M 1..1: EXIDV/20 TARAG/17 GWEIT/3 BRGEW/17 NTGEW/17 MAGEW/17 GWEIM/3 BTVOL/17 NTVOL/17 MAVOL/17 VOLEM/3 TAVOL/17 VOLET/3 VEGR2/5 VEGR1/5 VEGR3/5 VHILM/18 VEGR4/5 LAENG/15 VEGR5/5 BREIT/15 HOEHE/15 MEABM/3 INHALT/40 VHART/4 MAGRV/4 LADLG/8 LADEH/3 FARZT/4 FAREH/3 ENTFE/8 EHENT/3 VELTP/1 EXIDV2/20 LANDT/3 LANDF/3 NAMEF/35 NAMBE/35 VHILM_KU/22 VEBEZ/40 SMGKN/1 KDMAT35/35 SORTL/10 ERNAM/12 GEWFX/1 ERLKZ/1 EXIDA/1
    E1EDT44 (E2EDT44001) L03 O 1..9999999999: VELIN/1 VBELN/10 POSNR/6 EXIDV/20 VEMNG/17 VEMEH/3 MATNR/18 KDMAT/35 CHARG/10 WERKS/4 LGORT/4
  group 6
    E1EDL20 (E2EDL20004) L02 M 1..1: =
    group 7
      E1ADRM1 (E2ADRM1001) L03 M 1..1: =
    group 8
      E1EDT13 (E2EDT13001) L03 M 1..1: =
    group 9
      E1EDL24 (E2EDL24007) L03 M 1..1: =
      E1EDL41 (E2EDL41000) L04 O 1..99: =
```

## SYSTAT01
```
E1STATS (E2STATS002) L01 M 1..9999999999: TABNAM/10 MANDT/3 DOCNUM/16 LOGDAT/8 LOGTIM/6 STATUS/2 UNAME/12 REPID/8 ROUTID/30 STACOD/8 STATXT/70 SEGNUM/6 SEGFLD/10 STAPA1/20 STAPA2/20 STAPA3/20 STAPA4/20 REFINT/14 REFGRP/14 REFMES/14 ARCKEY/70 STATYP/1 STAMQU/3 STAMID/20 STAMNO/3 STAPA1_LNG/50 STAPA2_LNG/50 STAPA3_LNG/50 STAPA4_LNG/50
```

## ALEAUD01
```
group 1
  E1ADHDR (E2ADHDR) L01 M 1..1: MESTYP/6 MESCOD/3 MESFCT/3 MESTYP_LNG/30
  group 2
    E1STATE (E2STATE001) L02 M 1..1: DOCNUM/16 STATUS/2 STACOD/8 STATXT/70 STAPA1/20 STAPA2/20 STAPA3/20 STAPA4/20 STATYP/1 STAMQU/3 STAMID/20 STAMNO/3 STAPA1_LNG/50 STAPA2_LNG/50 STAPA3_LNG/50 STAPA4_LNG/50
    E1PRTOB (E2PRTOB) L03 O 1..1: DOCNUM/16 LOGSYS/10 OBJTYPE/10 OBJKEY/70
```
"""

SEG_RE = re.compile(r"^(\s*)(\S+) \((\S+)\) L(\d+) ([MO]) (\d+)\.\.(\d+):(.*)$")


def parse(text):
    types = {}
    cur = None
    in_code = False
    for line in text.splitlines():
        m = re.match(r"^## (\S+)\s*$", line)
        if m:
            cur = m.group(1)
            types[cur] = []
            continue
        if line.startswith("```"):
            in_code = not in_code
            continue
        if not in_code or cur is None or not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        g = re.match(r"^\s*group (\d+)\s*$", line)
        if g:
            types[cur].append(("group", indent // 2))
            continue
        m = SEG_RE.match(line)
        if not m:
            raise SystemExit("cannot parse: " + line[:80])
        if m.group(8).strip() == "=":
            fields = "="  # as documented for the same definition name
        else:
            fields = [f.split("/") for f in m.group(8).split()]
        types[cur].append(("seg", len(m.group(1)) // 2, m.group(2), m.group(3),
                           int(m.group(4)), m.group(5), int(m.group(6)),
                           int(m.group(7)), fields))
    return types


def emit(name, items, out):
    lines = ["# %s - generated by gen_defs.py from SAP's segment documentation" % name,
             "# (see defs/README.md). Format: IDOC / SEG / F lines.",
             "IDOC %s" % name]
    # stack of (indent of group content, head type or None)
    groups = []  # each: [indent_of_members, head_type]
    pending_group = None
    for it in items:
        if it[0] == "group":
            ind = it[1]
            while groups and groups[-1][0] > ind:
                groups.pop()
            pending_group = [ind + 1, None]
            groups.append(pending_group)
            continue
        _, ind, typ, defn, lvl, mo, mn, mx, fields = it
        while groups and groups[-1][0] > ind:
            groups.pop()
        g = groups[-1] if groups and groups[-1][0] == ind else None
        if g is not None and g[1] is None:
            # group head: its parent is the enclosing group's head
            g[1] = typ
            parent = "-"
            for og in reversed(groups[:-1]):
                parent = og[1]
                break
            mo, mn, mx = HEAD_OVERRIDES.get((name, typ), HEAD_DEFAULT)
        else:
            parent = g[1] if g is not None else "-"
        lines.append("SEG %s %s %s %02d %s %d %d" % (typ, defn, parent, lvl, mo, mn, mx))
        col = 64
        mand = MANDATORY_FIELDS.get((name, typ), set())
        for fname, flen in fields:
            flen = int(flen)
            extra = ""
            if name in ("SYSTAT01",) and fname in NUMC_FIELDS:
                extra = " " + NUMC_FIELDS[fname]
            if fname in mand:
                extra += " M"
            lines.append("F %s %d %d%s" % (fname, col, flen, extra))
            col += flen
        if col - 1 > 1063:
            raise SystemExit("%s %s: fields end at %d > 1063" % (name, typ, col - 1))
    with open(os.path.join(out, name.lower() + ".idef"), "w") as f:
        f.write("\n".join(lines) + "\n")


def resolve_shared(types, extra):
    """A segment written "=" takes the fields SAP documents for the same
    definition name in another type (a segment definition has one layout,
    whichever IDoc type uses it)."""
    known = {}
    for items in types.values():
        for it in items:
            if it[0] == "seg" and it[8] != "=":
                known.setdefault(it[3], it[8])
    for name, items in extra.items():
        for i, it in enumerate(items):
            if it[0] == "seg" and it[8] == "=":
                if it[3] not in known:
                    raise SystemExit("%s %s: no documented %s" % (name, it[2], it[3]))
                items[i] = it[:8] + (known[it[3]],)


def main():
    src, out = sys.argv[1], sys.argv[2]
    types = parse(open(src, encoding="utf-8").read())
    extra = parse(EXTRA)
    resolve_shared(types, extra)
    types.update(extra)
    for name in ("ORDERS05", "DELVRY07", "INVOIC02", "SHPMNT05", "SYSTAT01", "ALEAUD01"):
        emit(name, types[name], out)
        print("wrote", name)


main()
