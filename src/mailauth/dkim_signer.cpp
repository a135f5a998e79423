// DkimSigner: the h= list is settled when the header ends (counting each name's instances for
// oversigning), the body hash as the body streams, and each key's field and signature at the
// end, over the same canonical header text.
#include "mailauth/dkim_signer.h"

#include "base/base64.h"
#include "base/text.h"
#include "mailauth/header_hash.h"
#include "message/header_text.h"

namespace tern::mailauth {
namespace {

constexpr std::size_t kWidth = message::kFoldLine;

std::size_t count_named(const std::vector<std::string>& fields, std::string_view name) {
    std::size_t n = 0;
    for (const std::string& f : fields)
        if (ascii_iequals(field_name(f), name)) ++n;
    return n;
}

}  // namespace

std::vector<std::string> default_oversigned_fields() {
    return {"From",       "Reply-To",     "To",           "Cc",
            "Subject",    "Date",         "Message-ID",   "In-Reply-To",
            "References", "MIME-Version", "Content-Type", "Content-Transfer-Encoding"};
}

std::vector<std::string> default_signed_fields() {
    return {"Sender",
            "List-Id",
            "List-Unsubscribe",
            "List-Unsubscribe-Post",
            "List-Post",
            "List-Help",
            "List-Subscribe",
            "List-Owner",
            "List-Archive",
            "Resent-Date",
            "Resent-From",
            "Resent-Sender",
            "Resent-To",
            "Resent-Cc",
            "Resent-Message-ID",
            "Content-Disposition",
            "Content-ID",
            "Content-Description"};
}

FieldFolder::FieldFolder(std::string_view start) : text_(start) {
    auto newline = start.rfind('\n');
    line_ = newline == std::string_view::npos ? start.size() : start.size() - newline - 1;
}

void FieldFolder::word(std::string_view word, bool space) {
    std::size_t need = word.size() + (space ? 1 : 0);
    if (line_ + need > kWidth && line_ > 1) {
        text_ += "\r\n ";
        line_ = 1;
    } else if (space) {
        text_ += ' ';
        ++line_;
    }
    text_ += word;
    line_ += word.size();
}

void FieldFolder::spread(std::string_view value) {
    while (!value.empty()) {
        if (line_ >= kWidth) {
            text_ += "\r\n ";
            line_ = 1;
        }
        std::size_t n = std::min(value.size(), kWidth - line_);
        text_ += value.substr(0, n);
        line_ += n;
        value.remove_prefix(n);
    }
}

DkimSigner::DkimSigner(DkimSignOptions options, std::vector<SigningKey> keys, std::int64_t now)
    : options_(std::move(options)), keys_(std::move(keys)), now_(now) {
    body_handle_ = body_.request(options_.body_canon);
}

void DkimSigner::header(std::string_view field) {
    if (!headers_done_) fields_.emplace_back(field);
}

void DkimSigner::end_headers() {
    if (headers_done_) return;
    headers_done_ = true;
    for (const std::string& name : options_.oversigned) {
        std::size_t n = count_named(fields_, name);
        for (std::size_t i = 0; i <= n; ++i)
            h_.push_back(name);
    }
    for (const std::string& name : options_.signed_fields) {
        std::size_t n = count_named(fields_, name);
        for (std::size_t i = 0; i < n; ++i)
            h_.push_back(name);
    }
    has_from_ = count_named(fields_, "From") > 0;
    for (auto index : select_fields(fields_, h_))
        if (index) signed_text_ += canonical_header(fields_[*index], options_.header_canon);
    fields_.clear();
    fields_.shrink_to_fit();
}

void DkimSigner::body(std::string_view chunk) {
    if (!body_done_) body_.feed(chunk);
}

void DkimSigner::end_body() {
    if (body_done_) return;
    body_done_ = true;
    body_.finish();
}

std::string DkimSigner::field_without_b(const SigningKey& key, const std::string& body_hash,
                                        std::uint64_t body_length) const {
    FieldFolder f(arc_instance_ > 0 ? "ARC-Message-Signature:" : "DKIM-Signature:");
    f.word(arc_instance_ > 0 ? "i=" + std::to_string(arc_instance_) + ";" : "v=1;");
    f.word("a=" + std::string(algorithm_name(algorithm_for(key.key->type()))) + ";");
    f.word("c=" + std::string(canon_name(options_.header_canon)) + "/" +
           std::string(canon_name(options_.body_canon)) + ";");
    f.word("d=" + key.domain + ";");
    f.word("s=" + key.selector + ";");
    if (!key.identity.empty() && arc_instance_ == 0) f.word("i=" + key.identity + ";");
    f.word("t=" + std::to_string(now_) + ";");
    if (options_.expire_after) f.word("x=" + std::to_string(now_ + *options_.expire_after) + ";");
    if (options_.body_length) f.word("l=" + std::to_string(body_length) + ";");
    for (std::size_t i = 0; i < h_.size(); ++i) {
        std::string name = (i == 0 ? "h=" : "") + h_[i] + (i + 1 == h_.size() ? ";" : ":");
        f.word(name, i == 0);
    }
    f.word("bh=" + base64_encode(body_hash) + ";");
    f.word("b=");
    return f.text(false);
}

Result<std::vector<std::string>> DkimSigner::signatures() {
    end_headers();
    end_body();
    if (!has_from_) return fail(ErrorCode::kInvalid, "the message has no From field to sign");
    const std::string& body_hash = body_.digest(body_handle_);
    std::uint64_t length = body_.canonical_length(body_handle_);
    std::vector<std::string> out;
    for (const SigningKey& key : keys_) {
        std::string field = field_without_b(key, body_hash, length);
        Sha256 digest;  // what HeaderHasher would compute, with the fields canonicalised once
        digest.update(signed_text_);
        digest.update(canonical_header(field, options_.header_canon));
        auto signature = key.key->sign(digest.finish());
        if (!signature) return std::unexpected(signature.error());
        FieldFolder folded(field);
        folded.spread(base64_encode(*signature));
        out.push_back(folded.text());
    }
    return out;
}

}  // namespace tern::mailauth
