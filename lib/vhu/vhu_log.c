/* SPDX-License-Identifier: BSD-3-Clause */
#include "vhu_log.h"

RTE_LOG_REGISTER(vhu_logtype, lib.vhu, INFO);
