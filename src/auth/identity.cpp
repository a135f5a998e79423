// Identity normalisation, the SASLprep subset (UTF-8 well-formedness and control characters)
// and account-name syntax, reusing the UTF-8 and mailbox grammar of smtp/address.h.
#include "auth/identity.h"

#include <cstdint>

#include "base/text.h"
#include "smtp/address.h"

namespace tern::auth {

bool prep_acceptable(std::string_view text) {
    if (!smtp::valid_utf8(text)) return false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        auto c = static_cast<std::uint8_t>(text[i]);
        if (c < 0x20 || c == 0x7f) return false;
        // C1 controls U+0080-009F are encoded as C2 80 to C2 9F.
        if (c == 0xc2 && i + 1 < text.size() && static_cast<std::uint8_t>(text[i + 1]) <= 0x9f)
            return false;
    }
    return true;
}

std::optional<std::string> normalize_identity(std::string_view text) {
    if (text.empty() || text.size() > kMaxIdentity || !prep_acceptable(text)) return std::nullopt;
    return ascii_lower(text);
}

Result<std::string> parse_account_name(std::string_view text) {
    auto quoted = [&] { return "\"" + std::string(text) + "\""; };
    if (text.size() > kMaxAccountName)
        return fail(ErrorCode::kInvalid, quoted() + " is longer than 254 octets");
    auto mailbox = smtp::parse_mailbox(text, true);
    if (!mailbox || mailbox->local.empty() || mailbox->domain.empty() ||
        mailbox->local.front() == '"' || mailbox->domain.front() == '[' || !prep_acceptable(text))
        return fail(ErrorCode::kInvalid,
                    quoted() + " is not an account name of the form name@domain");
    return *normalize_identity(text);
}

Result<void> check_password(std::string_view password) {
    if (password.empty()) return fail(ErrorCode::kInvalid, "the password is empty");
    if (password.size() > kMaxPassword)
        return fail(ErrorCode::kInvalid, "the password is longer than 1024 octets");
    if (!prep_acceptable(password))
        return fail(ErrorCode::kInvalid,
                    "the password holds control characters or is not valid UTF-8");
    return {};
}

}  // namespace tern::auth
