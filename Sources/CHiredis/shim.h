#ifndef CHIREDIS_SHIM_H
#define CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#include <sys/time.h>

// hiredis 0.14 (Debian 12). Reply type constants are macros; re-export them as constants Swift can see.
static const int CHiredis_REPLY_STRING = REDIS_REPLY_STRING;
static const int CHiredis_REPLY_ARRAY = REDIS_REPLY_ARRAY;
static const int CHiredis_REPLY_INTEGER = REDIS_REPLY_INTEGER;
static const int CHiredis_REPLY_NIL = REDIS_REPLY_NIL;
static const int CHiredis_REPLY_STATUS = REDIS_REPLY_STATUS;
static const int CHiredis_REPLY_ERROR = REDIS_REPLY_ERROR;
static const int CHiredis_OK = REDIS_OK;

static inline struct timeval CHiredis_timeval(long ms) {
    struct timeval tv;
    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    return tv;
}
#endif
