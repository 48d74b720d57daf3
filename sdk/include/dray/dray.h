/* dray/dray.h - the one header a plugin includes. */
#ifndef DRAY_DRAY_H
#define DRAY_DRAY_H

#include "abi.h"
#include "config.h"
#include "host.h"
#include "plugin.h"

#endif
