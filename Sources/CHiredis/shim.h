#ifndef CHIREDIS_SHIM_H
#define CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>

// hiredis 0.14 (Debian 12), used for its command formatter and reply reader only. Reply type constants are
// macros; re-export them as constants Swift can see.
static const int CHiredis_REPLY_STRING = REDIS_REPLY_STRING;
static const int CHiredis_REPLY_ARRAY = REDIS_REPLY_ARRAY;
static const int CHiredis_REPLY_INTEGER = REDIS_REPLY_INTEGER;
static const int CHiredis_REPLY_NIL = REDIS_REPLY_NIL;
static const int CHiredis_REPLY_STATUS = REDIS_REPLY_STATUS;
static const int CHiredis_REPLY_ERROR = REDIS_REPLY_ERROR;
static const int CHiredis_OK = REDIS_OK;
#endif
