// domain_status: the certificates as loaded, and one TXT query per DKIM key.
#include "admin/domain_status.h"

#include "mailauth/key_lookup.h"
#include "mailauth/key_record.h"

namespace tern::admin {
using nlohmann::json;

boost::asio::awaitable<json> domain_status(const tls::ServerContext* tls,
                                           const std::vector<mailauth::SigningKey>& keys,
                                           dns::Resolver& resolver) {
    json certificates = json::array();
    if (tls)
        for (const auto& c : tls->certificates())
            certificates.push_back({{"names", c.names},
                                    {"not_before", c.not_before},
                                    {"not_after", c.not_after},
                                    {"issuer", c.issuer},
                                    {"self_signed", c.self_signed},
                                    {"file", c.file}});
    json dkim = json::array();
    for (const auto& k : keys) {
        bool rsa = k.key->type() == mailauth::KeyType::kRsa;
        std::string name = k.selector + "._domainkey." + k.domain;
        json entry{{"domain", k.domain},
                   {"selector", k.selector},
                   {"algorithm", rsa ? "rsa-sha256" : "ed25519-sha256"},
                   {"bits", k.key->bits()},
                   {"record", name},
                   {"ok", false}};
        dns::Answer answer = co_await resolver.query(name, dns::RecordType::kTxt);
        auto fetched = mailauth::key_from_answer(answer, name);
        if (fetched.problem)
            entry["error"] = fetched.problem->reason;
        else if (fetched.record->revoked())
            entry["error"] = "the published key is revoked (empty p=)";
        else if (!fetched.key || !(k.key->public_key() == *fetched.key))
            entry["error"] = "the published record holds another key";
        else
            entry["ok"] = true;
        dkim.push_back(std::move(entry));
    }
    co_return json{{"tls", std::move(certificates)}, {"dkim", std::move(dkim)}};
}

}  // namespace tern::admin
