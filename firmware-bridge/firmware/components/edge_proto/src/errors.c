#include "edge_proto/errors.h"

const char *edge_err_name(int err)
{
    switch (err) {
    case EDGE_OK: return "ok";
    case EDGE_ERR_SHORT: return "short";
    case EDGE_ERR_VERSION: return "version";
    case EDGE_ERR_CRC: return "crc";
    case EDGE_ERR_TYPE: return "type";
    case EDGE_ERR_CBOR: return "cbor";
    case EDGE_ERR_FIELD: return "field";
    case EDGE_ERR_COBS: return "cobs";
    case EDGE_ERR_OVERSIZE: return "oversize";
    case EDGE_ERR_NOSPACE: return "nospace";
    case EDGE_ERR_QUEUE_FULL: return "queue_full";
    case EDGE_ERR_ARG: return "arg";
    default: return err > 0 ? "ok" : "unknown";
    }
}
