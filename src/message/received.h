// The Received: trace header Tern prepends to every message it accepts (RFC 5321 section 4.4,
// RFC 5322 section 3.6.7), with the protocol keywords of RFC 3848 and RFC 6531.
#pragma once

#include <chrono>
#include <string>

namespace tern::message {

struct ReceivedInfo {
    std::string helo;         // the client's EHLO/HELO argument
    std::string client_host;  // the client's verified reverse DNS name; empty if none
    std::string client_ip;    // the client's address as text, without brackets
    std::string by_host;      // our host name
    std::string protocol;     // SMTP, ESMTP, ESMTPS, ESMTPSA, UTF8SMTPS, ...
    std::string tls;  // e.g. "version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384"; empty without TLS
    std::string queue_id;
    std::string for_recipient;  // the recipient when there is exactly one, else empty
    std::chrono::system_clock::time_point when;
};

// The complete header field, folded to lines of at most 78 octets where the parts allow it,
// each line ending in CRLF. Values are sanitised: CR, LF and other controls never reach the output.
std::string received_header(const ReceivedInfo& info);

// An RFC 5322 date-time in UTC: "Wed, 25 Nov 2026 10:00:00 +0000".
std::string rfc5322_date(std::chrono::system_clock::time_point when);

}  // namespace tern::message
