/* x12_sets.c - the segment dictionary and transaction set definitions, as
 * text tables compiled on first use (see x12_sets.h).
 *
 * Segment line:  "TAG[!]|ref req type min max[ =code code ...]|..." one
 * "|"-separated field per element in order; req is M or O; type is AN, ID,
 * N0, N1, N2, R, DT, TM or CO (composite); a type ending in '+' allows
 * repetitions; "!" after the tag marks a complete definition (more
 * elements are an error). ref 0 stands for ISA-style (I-prefixed) or composite
 * references. Elements past the last defined one are not checked (our
 * tables cover what we validate and map, not whole guides).
 * Set line:      "ST01 GS01 name|allowed segment ids|mandatory segment ids".
 */
#include "x12_sets.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static const char *const segment_table[] = {
    /* envelopes and acks */
    "GS!|479 M ID 2 2|142 M AN 2 15|124 M AN 2 15|373 M DT 8 8|337 M TM 4 8|28 M N0 1 9|455 M ID 1 2 =T X|480 M AN 1 12",
    "GE!|97 M N0 1 6|28 M N0 1 9",
    "IEA!|0 M N0 1 5|0 M N0 9 9",
    "ST!|143 M ID 3 3|329 M AN 4 9|1705 O AN 1 35",
    "SE!|96 M N0 1 10|329 M AN 4 9",
    "TA1!|0 M N0 9 9|0 M DT 6 6|0 M TM 4 4|0 M ID 1 1 =A E R|0 M ID 3 3",
    "ISB|0 M AN 1 15",
    "ISE|0 O AN 1 15|0 O AN 1 15|0 O AN 1 15",
    "AK1!|479 M ID 2 2 =AG AR BE CA FA GF HB HC HI HN HP HR HS IB IM IN IO OW PC PO PR PS QM RA SH SM TX|28 M N0 1 9|480 O AN 1 12",
    "AK2!|143 M ID 3 3|329 M AN 4 9|1705 O AN 1 35",
    "AK3!|721 M ID 2 3|719 M N0 1 10|447 O AN 1 4|720 O ID 1 3 =1 10 2 3 4 5 6 7 8 I4 I6 I7 I8 I9",
    "AK4!|0 M CO 1 99|725 O N0 1 4|723 M ID 1 3 =1 10 12 13 2 3 4 5 6 7 8 9 I10 I11 I12 I13 I6 I9|724 O AN 1 99",
    "AK5!|717 M ID 1 1 =A E M R W X|718 O ID 1 3|718 O ID 1 3|718 O ID 1 3|718 O ID 1 3|718 O ID 1 3",
    "AK9!|715 M ID 1 1 =A E M P R W X|97 M N0 1 6|123 M N0 1 6|2 M N0 1 6|716 O ID 1 3|716 O ID 1 3|716 O ID 1 3|716 O ID 1 3|716 O ID 1 3",
    "IK3!|721 M ID 2 3|719 M N0 1 10|447 O AN 1 4|620 O ID 1 3 =1 2 3 4 5 6 7 8 I4 I6 I7 I8 I9",
    "IK4!|0 M CO 1 99|725 O N0 1 4|621 M ID 1 3 =1 10 12 13 2 3 4 5 6 7 8 9 I10 I11 I12 I13 I6 I9|724 O AN 1 99",
    "IK5!|717 M ID 1 1 =A E M R W X|618 O ID 1 3|618 O ID 1 3|618 O ID 1 3|618 O ID 1 3|618 O ID 1 3",
    "CTX|0 M CO+ 1 99|721 O ID 2 3|719 O N0 1 10|447 O AN 1 4|0 O CO 1 99|0 O CO 1 99",
    /* shared */
    "REF|128 M ID 2 3|127 O AN 1 50|352 O AN 1 80|0 O CO 1 99",
    "PER|366 M ID 2 2|93 O AN 1 60|365 O ID 2 2|364 O AN 1 80|365 O ID 2 2|364 O AN 1 80",
    "DTM|374 M ID 3 3|373 O DT 8 8|337 O TM 4 8|623 O ID 2 2",
    "N1|98 M ID 2 3|93 O AN 1 60|66 O ID 1 2|67 O AN 2 80",
    "N2|93 M AN 1 60|93 O AN 1 60",
    "N3|166 M AN 1 55|166 O AN 1 55",
    "N4|19 O AN 2 30|156 O ID 2 2|116 O ID 3 15|26 O ID 2 3|309 O ID 1 2|310 O AN 1 30",
    "N9|128 M ID 2 3|127 O AN 1 50|369 O AN 1 45",
    "G61|366 M ID 2 2|93 M AN 1 60|365 O ID 2 2|364 O AN 1 80",
    "NTE|363 O ID 3 3|352 M AN 1 80",
    "MSG|933 M AN 1 264",
    "CUR|98 M ID 2 3|100 M ID 3 3",
    "FOB|146 M ID 2 2",
    "ITD|336 O ID 2 2|333 O ID 1 2|338 O R 1 6|370 O DT 8 8|351 O N0 1 3|446 O DT 8 8|386 O N0 1 3",
    "TD5|133 O ID 1 2|66 O ID 1 2|67 O AN 2 80|91 O ID 1 2|387 O AN 1 35",
    "TD1|103 O AN 3 5|80 O N0 1 7|23 O ID 1 1|22 O AN 1 30|79 O AN 1 50|187 O ID 1 2|81 O R 1 10|355 O ID 2 2",
    "TD3|40 O ID 2 2|206 O AN 1 4|207 O AN 1 10",
    "PID|349 M ID 1 1|750 O ID 2 3|559 O ID 2 2|751 O AN 1 12|352 O AN 1 80",
    "CTT|354 M N0 1 6|347 O R 1 10|81 O R 1 10|355 O ID 2 2",
    "AMT|522 M ID 1 3|782 M R 1 18|478 O ID 1 1",
    "PKG|349 O ID 1 1|753 O ID 2 2|559 O ID 2 2|754 O AN 1 7|352 O AN 1 80",
    "PO4|356 O N0 1 6|357 O R 1 8|355 O ID 2 2|103 O AN 3 5",
    "SCH|380 M R 1 15|355 M ID 2 2",
    "CSH|563 O ID 1 2",
    "SAC|248 M ID 1 1|1300 O ID 4 4|559 O ID 2 2|1301 O AN 1 10|610 O N2 1 15",
    "TXI|963 M ID 2 2|782 O R 1 18|954 O R 1 10",
    "QTY|673 M ID 2 2|380 O R 1 15|0 O CO 1 99",
    "CTP|687 O ID 2 2|236 O ID 3 3|212 O R 1 17|380 O R 1 15|0 O CO 1 99",
    "FA1|559 M ID 2 2",
    "FA2|1196 M ID 2 2|1195 M AN 1 80",
    "CAD|91 O ID 1 2",
    "ISS|382 O R 1 10|355 O ID 2 2",
    /* 850 / 855 */
    "BEG|353 M ID 2 2 =00 01 04 05 06 07 22|92 M ID 2 2|324 M AN 1 22|328 O AN 1 30|373 M DT 8 8|367 O AN 1 30",
    "PO1|350 O AN 1 20|330 O R 1 15|355 O ID 2 2|212 O R 1 17|639 O ID 2 2|235 O ID 2 2|234 O AN 1 48|235 O ID 2 2|234 O AN 1 48|235 O ID 2 2|234 O AN 1 48|235 O ID 2 2|234 O AN 1 48|235 O ID 2 2|234 O AN 1 48",
    "BAK|353 M ID 2 2|587 M ID 2 2|324 M AN 1 22|373 M DT 8 8|328 O AN 1 30|326 O AN 1 45|367 O AN 1 30|596 O AN 1 22|373 O DT 8 8",
    "ACK|668 M ID 2 2|380 O R 1 15|355 O ID 2 2",
    /* 856 */
    "BSN|353 M ID 2 2|396 M AN 2 30|373 M DT 8 8|337 M TM 4 8|1005 O ID 4 4",
    "HL|628 M AN 1 12|734 O AN 1 12|735 M ID 1 2|736 O ID 1 1",
    "PRF|324 M AN 1 22|328 O AN 1 30|327 O AN 1 8|373 O DT 8 8",
    "LIN|350 O AN 1 20|235 M ID 2 2|234 M AN 1 48|235 O ID 2 2|234 O AN 1 48|235 O ID 2 2|234 O AN 1 48",
    "SN1|350 O AN 1 20|382 M R 1 10|355 M ID 2 2|646 O R 1 15|330 O R 1 15|355 O ID 2 2",
    "MAN|88 M ID 1 2|87 M AN 1 48",
    /* 204 / 990 / 214 */
    "B2|375 O ID 2 2|140 O ID 2 4|375 O AN 2 2|145 M AN 1 30|195 O AN 1 6|146 M ID 2 2",
    "B2A|353 M ID 2 2|346 O ID 2 2",
    "L11|127 M AN 1 30|128 M ID 2 3|352 O AN 1 80",
    "G62|432 O ID 2 2|373 O DT 8 8|176 O ID 1 2|337 O TM 4 8|623 O ID 2 2",
    "MS3|140 M ID 2 4|133 M ID 1 2|19 O AN 2 30|91 O ID 1 2",
    "N7|206 O AN 1 4|207 M AN 1 10|81 O R 1 10|187 O ID 1 2",
    "S5|165 M N0 1 3|163 M ID 2 2|81 O R 1 10|188 O ID 1 1|382 O R 1 10|355 O ID 2 2",
    "OID|127 O AN 1 30|324 O AN 1 22",
    "L5|213 O N0 1 3|79 O AN 1 50|22 O AN 1 30|23 O ID 1 1",
    "AT8|187 M ID 1 2|188 M ID 1 1|81 M R 1 10|80 O N0 1 7|80 O N0 1 7",
    "L3|81 O R 1 10|187 O ID 1 2|60 O R 1 15|122 O ID 2 2|58 O N2 1 12",
    "B1|140 M ID 2 4|145 M AN 1 30|373 O DT 8 8|558 O ID 1 1 =A D",
    "K1|61 M AN 1 30|61 O AN 1 30",
    "B10|127 M AN 1 30|145 M AN 1 30|140 M ID 2 4",
    "LX|554 M N0 1 6",
    "AT7|1650 O ID 2 2|1651 O ID 2 2|1652 O ID 1 2|1651 O ID 2 2|373 O DT 8 8|337 O TM 4 8|623 O ID 2 2",
    "MS1|19 O AN 2 30|156 O ID 2 2|26 O ID 2 3|1654 O R 6 10|1655 O R 6 11",
    "MS2|140 M ID 2 4|207 M AN 1 10|40 O ID 2 2",
    /* 210 / 810 */
    "B3|147 O ID 1 1|76 M AN 1 22|145 O AN 1 30|146 M ID 2 2|188 O ID 1 1|373 M DT 8 8|193 M N2 1 12|202 O ID 2 2|32 O DT 8 8|374 O ID 3 3|140 M ID 2 4",
    "C3|100 M ID 3 3",
    "R3|140 M ID 2 4|133 M ID 1 2",
    "L0|213 O N0 1 3|220 O R 1 15|221 O ID 1 2|81 O R 1 10|187 O ID 1 2|183 O R 1 8|184 O ID 1 1|80 O N0 1 7|211 O AN 3 5",
    "L1|213 O N0 1 3|60 O R 1 15|122 O ID 2 2|58 O N2 1 12|191 O N2 1 9|117 O N2 1 9|120 O ID 1 3|150 O ID 3 3",
    "L7|213 O N0 1 3",
    "BIG|373 M DT 8 8|76 M AN 1 22|373 O DT 8 8|324 O AN 1 22|328 O AN 1 30|327 O AN 1 8|640 O ID 2 2|353 O ID 2 2|306 O ID 1 2|76 O AN 1 22",
    "IT1|350 O AN 1 20|358 O R 1 10|355 O ID 2 2|212 O R 1 17|639 O ID 2 2|235 O ID 2 2|234 O AN 1 48|235 O ID 2 2|234 O AN 1 48|235 O ID 2 2|234 O AN 1 48|235 O ID 2 2|234 O AN 1 48",
    "TDS|610 M N2 1 15|610 O N2 1 15|610 O N2 1 15|610 O N2 1 15",
};

static const char *const set_table[] = {
    "850 PO Purchase Order|BEG CUR REF PER FOB CSH SAC ITD DTM PID PKG TD1 TD5 TD3 MAN TXI AMT N9 MSG N1 N2 N3 N4 G61 PO1 PO4 CTP QTY SCH CTT|BEG",
    "855 PR Purchase Order Acknowledgment|BAK CUR REF PER FOB CSH SAC ITD DTM PID PKG TD1 TD5 TD3 TXI N9 MSG N1 N2 N3 N4 PO1 PO4 CTP ACK SCH AMT CTT|BAK",
    "856 SH Ship Notice/Manifest|BSN DTM HL TD1 TD5 TD3 REF PER FOB N1 N2 N3 N4 PRF LIN SN1 PID PO4 MAN QTY CUR CTT SAC|BSN HL",
    "204 SM Motor Carrier Load Tender|B2 B2A L11 G62 MS3 NTE N1 N2 N3 N4 G61 N7 S5 OID L5 AT8 L3 PER|B2 S5",
    "990 GF Response to a Load Tender|B1 N9 K1 G62 L11|B1",
    "214 QM Transportation Carrier Shipment Status|B10 L11 MS3 N1 N2 N3 N4 G62 LX AT7 MS1 MS2 AT8 K1 Q7|B10",
    "210 IM Motor Carrier Freight Details and Invoice|B3 C3 ITD N9 G62 R3 H3 K1 N1 N2 N3 N4 N7 S5 LX L5 L0 L1 L7 L3 L11 OID|B3 L3",
    "810 IN Invoice|BIG NTE CUR REF N9 PER N1 N2 N3 N4 ITD DTM FOB PID IT1 QTY CTP TXI SAC PO4 TDS CAD AMT ISS CTT FA1 FA2 MSG|BIG TDS",
    "997 FA Functional Acknowledgment|AK1 AK2 AK3 AK4 AK5 AK9|AK1 AK9",
    "999 FA Implementation Acknowledgment|AK1 AK2 IK3 CTX IK4 IK5 AK9|AK1 AK9",
};

#define NSEG (sizeof(segment_table) / sizeof(segment_table[0]))
#define NSET (sizeof(set_table) / sizeof(set_table[0]))

struct x12_segment_def x12_segment_defs[NSEG];
#define segs x12_segment_defs
_Static_assert(NSEG < 255, "seg_by_key holds uint8_t indexes");
static struct x12_set_def sets[NSET];
static char *lines[NSEG + NSET]; /* the parsed copies, kept for life */
uint8_t x12_segment_index[X12_TAG_KEYS]; /* index + 1 into segs, 0: none */
#define seg_by_key x12_segment_index
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int load_result;

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static int cmp_seg(const void *a, const void *b) {
  /* sorted only so that listings are stable; lookups go by key */
  return strcmp(((const struct x12_segment_def *)a)->id,
                ((const struct x12_segment_def *)b)->id);
}

static int parse_type(const char *s, uint8_t *type, uint8_t *repeat) {
  static const char *const names[] = {"AN", "ID", "N0", "N1", "N2",
                                      "R",  "DT", "TM", "CO"};
  size_t n = strlen(s);
  *repeat = 0;
  if (n && s[n - 1] == '+') {
    *repeat = 1;
    n--;
  }
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    if (strlen(names[i]) == n && strncmp(names[i], s, n) == 0) {
      *type = (uint8_t)(X12_T_AN + i);
      return 0;
    }
  return -1;
}

/* Parses one element field "ref req type min max [=codes...]". */
static int parse_element(char *field, struct x12_element_def *el) {
  char *save = NULL;
  char *ref = strtok_r(field, " ", &save);
  char *req = strtok_r(NULL, " ", &save);
  char *type = strtok_r(NULL, " ", &save);
  char *min = strtok_r(NULL, " ", &save);
  char *max = strtok_r(NULL, " ", &save);
  if (!ref || !req || !type || !min || !max) return -1;
  el->ref = (uint16_t)atoi(ref);
  el->mandatory = req[0] == 'M';
  if (parse_type(type, &el->type, &el->repeat) < 0) return -1;
  el->min = (uint16_t)atoi(min);
  el->max = (uint16_t)atoi(max);
  char *codes = strtok_r(NULL, "", &save);
  if (codes && codes[0] == '=') {
    size_t n = 1;
    for (char *c = codes; *c; c++)
      if (*c == ' ') n++;
    const char **list = calloc(n, sizeof(*list));
    if (!list) return -1;
    size_t k = 0;
    char *s2 = NULL;
    for (char *c = strtok_r(codes + 1, " ", &s2); c && k < n;
         c = strtok_r(NULL, " ", &s2))
      list[k++] = c;
    qsort(list, k, sizeof(*list), cmp_str);
    el->codes = list;
    el->ncodes = (uint16_t)k;
    uint32_t *keys = calloc(k ? k : 1, sizeof(*keys));
    if (!keys) return -1;
    int all_short = 1;
    for (size_t i = 0; i < k; i++)
      if (!(keys[i] = x12_code_key(list[i], strlen(list[i])))) all_short = 0;
    if (all_short) {
      qsort(keys, k, sizeof(*keys), cmp_u32);
      el->code_keys = keys;
    } else {
      free(keys); /* the validator then takes the string list */
    }
  }
  return 0;
}

static int parse_ids(char *text, char (**out)[4], uint16_t *count) {
  size_t n = 1;
  for (char *c = text; *c; c++)
    if (*c == ' ') n++;
  char(*ids)[4] = calloc(n, sizeof(*ids));
  if (!ids) return -1;
  size_t k = 0;
  char *save = NULL;
  for (char *t = strtok_r(text, " ", &save); t; t = strtok_r(NULL, " ", &save))
    if (k < n) strncpy(ids[k++], t, 3);
  *out = ids;
  *count = (uint16_t)k;
  return 0;
}

/* Compiles the text tables. The strings are duplicated once and kept for
 * the life of the process (code lists point into them). */
static void load(void) {
  for (size_t i = 0; i < NSEG; i++) {
    char *line = lines[i] = strdup(segment_table[i]);
    if (!line) goto fail;
    size_t nfields = 0;
    for (char *c = line; *c; c++)
      if (*c == '|') nfields++;
    char *save = NULL;
    char *tag = strtok_r(line, "|", &save);
    char *bang = strchr(tag, '!');
    if (bang) {
      *bang = '\0';
      segs[i].complete = 1;
    }
    strncpy(segs[i].id, tag, 3);
    segs[i].el = calloc(nfields ? nfields : 1, sizeof(*segs[i].el));
    if (!segs[i].el) goto fail;
    size_t k = 0;
    for (char *f = strtok_r(NULL, "|", &save); f && k < nfields;
         f = strtok_r(NULL, "|", &save))
      if (parse_element(f, &segs[i].el[k++]) < 0) goto fail;
    segs[i].count = (uint8_t)k;
    for (size_t e = 0; e < k; e++)
      if (segs[i].el[e].mandatory) segs[i].last_mandatory = (uint8_t)(e + 1);
  }
  qsort(segs, NSEG, sizeof(segs[0]), cmp_seg);
  for (size_t i = 0; i < NSEG; i++)
    seg_by_key[x12_tag_key(segs[i].id, strlen(segs[i].id))] = (uint8_t)(i + 1);
  for (size_t i = 0; i < NSET; i++) {
    char *line = lines[NSEG + i] = strdup(set_table[i]);
    if (!line) goto fail;
    char *bar1 = strchr(line, '|');
    char *bar2 = bar1 ? strchr(bar1 + 1, '|') : NULL;
    if (!bar2) goto fail;
    *bar1 = *bar2 = '\0';
    memcpy(sets[i].id, line, 3);
    memcpy(sets[i].gs01, line + 4, 2);
    sets[i].name = line + 7;
    if (parse_ids(bar1 + 1, &sets[i].segments, &sets[i].nsegments) < 0 ||
        parse_ids(bar2 + 1, &sets[i].mandatory, &sets[i].nmandatory) < 0)
      goto fail;
    sets[i].allowed = calloc(X12_TAG_KEYS / 8 + 1, 1);
    sets[i].mandatory_keys = calloc(sets[i].nmandatory + 1u, sizeof(uint32_t));
    if (!sets[i].allowed || !sets[i].mandatory_keys) goto fail;
    for (uint16_t k = 0; k < sets[i].nsegments; k++) {
      uint32_t key = x12_tag_key(sets[i].segments[k], strlen(sets[i].segments[k]));
      sets[i].allowed[key / 8] |= (uint8_t)(1u << (key % 8));
    }
    for (uint16_t k = 0; k < sets[i].nmandatory; k++)
      sets[i].mandatory_keys[k] =
          x12_tag_key(sets[i].mandatory[k], strlen(sets[i].mandatory[k]));
  }
  load_result = 0;
  return;
fail:
  load_result = -1;
}

int x12_sets_load(void) {
  pthread_once(&once, load);
  return load_result;
}

const struct x12_segment_def *x12_segment_def_find(const char *tag,
                                                   size_t len) {
  x12_sets_load();
  return x12_segment_def_by_key(x12_tag_key(tag, len));
}

const struct x12_set_def *x12_set_def_find(const char *st01, size_t len) {
  if (len != 3) return NULL;
  x12_sets_load();
  for (size_t i = 0; i < NSET; i++)
    if (memcmp(sets[i].id, st01, 3) == 0) return &sets[i];
  return NULL;
}

int x12_set_allows(const struct x12_set_def *set, const char *tag,
                   size_t len) {
  uint32_t key = x12_tag_key(tag, len);
  return key && (set->allowed[key / 8] >> (key % 8)) & 1;
}

int x12_element_code_ok(const struct x12_element_def *def, const char *code,
                        size_t len) {
  if (!def->codes) return 1;
  size_t lo = 0, hi = def->ncodes;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = strncmp(def->codes[mid], code, len);
    if (c == 0 && def->codes[mid][len] != '\0') c = 1;
    if (c == 0) return 1;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return 0;
}
