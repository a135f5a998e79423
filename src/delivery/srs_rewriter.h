// SrsRewriter: when Tern forwards mail and when SRS applies: the return path of a forwarded
// recipient's delivery, and which RCPT addresses are SRS addresses of ours to turn back.
#pragma once

#include <cstdint>
#include <expected>
#include <functional>
#include <string>
#include <string_view>

#include "delivery/srs.h"
#include "spool/message.h"

namespace tern::delivery {

struct SrsRewriterOptions {
    bool enabled = false;
    SrsOptions codec;
    // Domain of the SRS addresses made; empty: the local domain the forwarded mail was sent to
    // (the alias's own domain, as Mail::SRS's forward(sender, alias) does).
    std::string domain;
    bool bounces_only = false;  // mail to an SRS address is accepted only from the null sender
};

class SrsRewriter {
  public:
    // `is_local_domain` says which domains are ours (senders there are never rewritten);
    // `default_domain` stands in for a recipient without a domain (bare <postmaster>).
    SrsRewriter(SrsRewriterOptions options, std::function<bool(std::string_view)> is_local_domain,
                std::string default_domain);

    bool enabled() const { return options_.enabled; }
    bool bounces_only() const { return options_.bounces_only; }

    // The MAIL FROM for delivering recipient `r` of `m` at unix time `now`: an SRS address when
    // SRS is on, `r` is forwarded, and the sender is neither <> nor at a local domain (nor at
    // the SRS domain); else the message's own sender. Empty means <>.
    std::string return_path(const spool::Message& m, const spool::Recipient& r,
                            std::int64_t now) const;

    // Whether `local`@`domain` is an SRS address this server should turn back: SRS on, an SRS
    // local part, and a local domain or the SRS domain.
    bool is_ours(std::string_view local, std::string_view domain) const;

    // The address an SRS address of ours stands for, checked as SrsCodec::reverse.
    std::expected<std::string, SrsError> reverse(std::string_view address,
                                                 std::optional<std::int64_t> now) const {
        return codec_.reverse(address, now);
    }

  private:
    SrsRewriterOptions options_;
    SrsCodec codec_;
    std::function<bool(std::string_view)> is_local_domain_;
    std::string default_domain_;
};

}  // namespace tern::delivery
