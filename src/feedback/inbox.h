// FeedbackInbox: which recipient addresses take reports for Tern to read rather than mail for a
// mailbox (docs/feedback.md): the VERP addresses of the bounce domain (a full one whose tag
// holds, or a compact one, checked when read), and the feedback addresses where complaint
// reports (ARF) arrive.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "feedback/verp.h"

namespace tern::feedback {

class FeedbackInbox {
  public:
    FeedbackInbox(const VerpCodec& verp, const std::vector<std::string>& addresses);

    const VerpCodec& verp() const { return verp_; }
    bool enabled() const { return verp_.enabled() || !addresses_.empty(); }

    // Whether `local`@`domain` (local part unquoted) is one of ours to read.
    bool accepts(std::string_view local, std::string_view domain) const;
    bool accepts(std::string_view address) const;

    // Whether `domain` is the bounce domain: its other addresses are refused at RCPT.
    bool is_bounce_domain(std::string_view domain) const { return verp_.is_bounce_domain(domain); }

  private:
    const VerpCodec& verp_;
    std::set<std::string> addresses_;  // lower case
};

}  // namespace tern::feedback
