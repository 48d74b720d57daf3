/* CRC32C: slicing-by-8 tables (built once) and the SSE4.2 instruction when available. */
#include "crc32c.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>
#define HAVE_X86_CRC 1
#endif

#define POLY 0x82F63B78u

static uint32_t table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void build_table(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++)
      c = (c >> 1) ^ (POLY & (0u - (c & 1u)));
    table[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; i++)
    for (int t = 1; t < 8; t++)
      table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
}

uint32_t dray__crc32c_sw(uint32_t crc, const void *data, size_t n) {
  pthread_once(&table_once, build_table);
  const unsigned char *p = data;
  crc = ~crc;
  while (n >= 8) {
    uint32_t lo, hi;
    memcpy(&lo, p, 4);
    memcpy(&hi, p + 4, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    lo = __builtin_bswap32(lo);
    hi = __builtin_bswap32(hi);
#endif
    lo ^= crc;
    crc = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^ table[5][(lo >> 16) & 0xff] ^
          table[4][lo >> 24] ^ table[3][hi & 0xff] ^ table[2][(hi >> 8) & 0xff] ^
          table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n--)
    crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
  return ~crc;
}

#ifdef HAVE_X86_CRC
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const void *data,
                                                             size_t n) {
  const unsigned char *p = data;
  uint64_t c = ~crc;
  while (n && ((uintptr_t)p & 7)) {
    c = _mm_crc32_u8((uint32_t)c, *p++);
    n--;
  }
  while (n >= 8) {
    uint64_t v;
    memcpy(&v, p, 8);
    c = _mm_crc32_u64(c, v);
    p += 8;
    n -= 8;
  }
  while (n--)
    c = _mm_crc32_u8((uint32_t)c, *p++);
  return ~(uint32_t)c;
}

static int hw_state; /* 0 unknown, 1 yes, -1 no; a benign race: every thread computes the same */
#endif

uint32_t dray__crc32c(uint32_t crc, const void *data, size_t n) {
#ifdef HAVE_X86_CRC
  int st = __atomic_load_n(&hw_state, __ATOMIC_RELAXED);
  if (st == 0) {
    __builtin_cpu_init();
    st = __builtin_cpu_supports("sse4.2") ? 1 : -1;
    __atomic_store_n(&hw_state, st, __ATOMIC_RELAXED);
  }
  if (st > 0)
    return crc32c_hw(crc, data, n);
#endif
  return dray__crc32c_sw(crc, data, n);
}
