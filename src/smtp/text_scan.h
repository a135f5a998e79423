// TextScan: what the session checks in the message text as it streams past, before the commit:
// the Received fields of the header section (a hop count against mail loops, RFC 5321 6.3) and
// NUL octets (RFC 5322 text excludes them), which are refused, stripped or kept as configured.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace tern::smtp {

// What a NUL octet in message text means (as Postfix's message_reject_characters and
// message_strip_characters offer).
enum class NulOctets {
    kReject,  // the message is refused with 554 5.6.0
    kStrip,   // the octets are removed from the stored text
    kAccept,  // stored as received
};

class TextScan {
  public:
    explicit TextScan(NulOctets nul = NulOctets::kReject) : nul_(nul) {}

    // Looks at the next piece of decoded message text (pieces may split lines and fields
    // anywhere). With NulOctets::kStrip the NUL octets are removed from `piece` in place.
    void scan(std::string& piece);

    // Received fields in the header section so far.
    std::size_t received_fields() const { return received_; }
    // NUL octets seen (stripped or not).
    std::uint64_t nul_octets() const { return nuls_; }
    // True when the text must be refused for its NUL octets.
    bool refuse_nul() const { return nul_ == NulOctets::kReject && nuls_ > 0; }

  private:
    void header_octet(char c);

    NulOctets nul_;
    bool in_header_ = true;     // still in the header section
    std::size_t line_len_ = 0;  // octets of the current line (without CR and LF)
    bool name_done_ = false;    // the field name of this line has been judged
    std::string name_;          // the field name so far, lower case, blanks skipped
    std::size_t received_ = 0;
    std::uint64_t nuls_ = 0;
};

}  // namespace tern::smtp
