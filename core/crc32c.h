/* CRC32C (Castagnoli, reflected polynomial 0x82F63B78), as used by iSCSI, ext4 and Kafka.
 * The spool's record and checkpoint checksums. Core-internal. */
#ifndef DRAY_CORE_CRC32C_H
#define DRAY_CORE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extends `crc` (0 for a fresh checksum) over `n` bytes and returns the new value, so
 * dray__crc32c(dray__crc32c(0, a, na), b, nb) == CRC32C of a followed by b.
 * Uses the SSE4.2 crc32 instruction when the CPU has it (checked once at run time), otherwise
 * a slicing-by-8 table. Thread-safe. CRC32C("123456789") == 0xE3069283. */
uint32_t dray__crc32c(uint32_t crc, const void *data, size_t n);

/* The portable table implementation, exposed so tests can check both paths agree. */
uint32_t dray__crc32c_sw(uint32_t crc, const void *data, size_t n);

#endif
