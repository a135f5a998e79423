// FeedbackInbox: the feedback addresses compared in lower case; VERP addresses by their tag.
#include "feedback/inbox.h"

#include "base/text.h"

namespace tern::feedback {

FeedbackInbox::FeedbackInbox(const VerpCodec& verp, const std::vector<std::string>& addresses)
    : verp_(verp) {
    for (const auto& a : addresses)
        addresses_.insert(ascii_lower(a));
}

bool FeedbackInbox::accepts(std::string_view local, std::string_view domain) const {
    if (!addresses_.empty() && addresses_.contains(ascii_lower(local) + "@" + ascii_lower(domain)))
        return true;
    return verp_.decode(local, domain).has_value();
}

bool FeedbackInbox::accepts(std::string_view address) const {
    auto at = address.rfind('@');
    if (at == std::string_view::npos) return false;
    return accepts(address.substr(0, at), address.substr(at + 1));
}

}  // namespace tern::feedback
