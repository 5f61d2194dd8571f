/* edge-agent device protocol v1, device side. See firmware-bridge/firmware/README.md. */
#ifndef EDGE_PROTO_H
#define EDGE_PROTO_H

#include "edge_proto/config.h"
#include "edge_proto/clock.h"
#include "edge_proto/errors.h"
#include "edge_proto/crc16.h"
#include "edge_proto/cobs.h"
#include "edge_proto/frame.h"
#include "edge_proto/reader.h"
#include "edge_proto/cbor.h"
#include "edge_proto/body.h"
#include "edge_proto/session.h"

#endif
