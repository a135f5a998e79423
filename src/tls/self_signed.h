// The self-signed default certificate: made on first start when no certificate is configured,
// naming the host, localhost, 127.0.0.1 and ::1, and remade once if an older Tern made it.
#pragma once

#include <string>

#include "base/error.h"
#include "tls/server_context.h"

namespace tern::tls {

// What ensure_self_signed found or did.
enum class SelfSignedAction {
    kKept,     // the file was there and is used as it is
    kMade,     // there was no file: a new certificate was written
    kRenewed,  // the file held a certificate of an older Tern without 127.0.0.1 and ::1: replaced
};

struct SelfSigned {
    CertificateFiles files;
    SelfSignedAction action = SelfSignedAction::kKept;
};

// Makes sure <dir>/self-signed.pem (mode 0600) holds a new P-256 key and a self-signed
// certificate for `hostname`, localhost, 127.0.0.1 and ::1. An existing file is kept, unless it
// holds a certificate that this function wrote before it named the addresses (recognised by its
// exact shape); a certificate of any other shape, someone else's, is never touched. For the
// embedded default only: clients verify it only if given the file as their trust anchor.
Result<SelfSigned> ensure_self_signed(const std::string& dir, const std::string& hostname);

}  // namespace tern::tls
