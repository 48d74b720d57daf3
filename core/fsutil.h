/* fsutil.h - small file-system helpers of the core. */
#ifndef DRAY_CORE_FSUTIL_H
#define DRAY_CORE_FSUTIL_H

/* mkdir -p with mode 0750. 0, or -1 with errno. */
int dray__mkdirs(const char *path);

#endif
