// Fixtures of the DKIM tests: the RFC 8463 appendix A message and keys, key records served
// from a map as DNS answers, and drivers that feed a message to a verifier or a signer in
// chunks of a chosen size.
#pragma once

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../../fuzz/fuzz_dns.h"
#include "base/base64.h"
#include "dns/answer.h"
#include "mailauth/dkim_keys.h"
#include "mailauth/dkim_signer.h"
#include "mailauth/dkim_verifier.h"
#include "mailauth/lookups.h"
#include "message/header_split.h"

namespace tern::mailauth::testing {

// RFC 8463 appendix A.3: the message signed with Ed25519 and with RSA (CRLF line ends).
inline const std::string kRfc8463Message =
    "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
    " d=football.example.com; i=@football.example.com;\r\n"
    " q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n"
    " subject : date : message-id : from : subject : date;\r\n"
    " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
    " b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus\r\n"
    " Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==\r\n"
    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\r\n"
    " d=football.example.com; i=@football.example.com;\r\n"
    " q=dns/txt; s=test; t=1528637909; h=from : to : subject :\r\n"
    " date : message-id : from : subject : date;\r\n"
    " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
    " b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3\r\n"
    " DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz\r\n"
    " dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=\r\n"
    "From: Joe SixPack <joe@football.example.com>\r\n"
    "To: Suzie Q <suzie@shopping.example.net>\r\n"
    "Subject: Is dinner ready?\r\n"
    "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
    "Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
    "\r\n"
    "Hi.\r\n"
    "\r\n"
    "We lost the game.  Are you hungry yet?\r\n"
    "\r\n"
    "Joe.\r\n";

inline constexpr std::int64_t kRfc8463Time = 1528637909;

// RFC 8463 appendix A.2: the records published for the two selectors.
inline const std::string kRfc8463EdRecord =
    "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
inline const std::string kRfc8463RsaRecord =
    "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6"
    "wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5Q"
    "jvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB";

// RFC 8463 appendix A.1: the Ed25519 private key (the RFC 8032 section 7.1 test 1 seed) in
// PKCS#8, and the RSA private key.
inline std::string rfc8463_ed25519_pem() {
    std::string der =
        std::string("\x30\x2e\x02\x01\x00\x30\x05\x06\x03\x2b\x65\x70\x04\x22\x04\x20", 16) +
        *base64_decode("nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=");
    return "-----BEGIN PRIVATE KEY-----\n" + base64_encode(der) + "\n-----END PRIVATE KEY-----\n";
}

inline const std::string kRfc8463RsaPem =
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIICXQIBAAKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQi\n"
    "Y/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqM\n"
    "KrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB\n"
    "AoGAH0cxOhFZDgzXWhDhnAJDw5s4roOXN4OhjiXa8W7Y3rhX3FJqmJSPuC8N9vQm\n"
    "6SVbaLAE4SG5mLMueHlh4KXffEpuLEiNp9Ss3O4YfLiQpbRqE7Tm5SxKjvvQoZZe\n"
    "zHorimOaChRL2it47iuWxzxSiRMv4c+j70GiWdxXnxe4UoECQQDzJB/0U58W7RZy\n"
    "6enGVj2kWF732CoWFZWzi1FicudrBFoy63QwcowpoCazKtvZGMNlPWnC7x/6o8Gc\n"
    "uSe0ga2xAkEA8C7PipPm1/1fTRQvj1o/dDmZp243044ZNyxjg+/OPN0oWCbXIGxy\n"
    "WvmZbXriOWoSALJTjExEgraHEgnXssuk7QJBALl5ICsYMu6hMxO73gnfNayNgPxd\n"
    "WFV6Z7ULnKyV7HSVYF0hgYOHjeYe9gaMtiJYoo0zGN+L3AAtNP9huqkWlzECQE1a\n"
    "licIeVlo1e+qJ6Mgqr0Q7Aa7falZ448ccbSFYEPD6oFxiOl9Y9se9iYHZKKfIcst\n"
    "o7DUw1/hz2Ck4N5JrgUCQQCyKveNvjzkkd8HjYs0SwM0fPjK16//5qDZ2UiDGnOe\n"
    "uEzxBDAr518Z8VFbR41in3W4Y3yCDgQlLlcETrS+zYcL\n"
    "-----END RSA PRIVATE KEY-----\n";

// TXT rdata on the wire: the text cut into length-prefixed strings of at most 255 octets.
using fuzz::txt_rdata;

inline dns::Answer txt_answer(std::vector<std::string> texts) {
    dns::Answer answer;
    answer.status = dns::Answer::Status::kOk;
    for (const std::string& t : texts)
        answer.rdata.push_back(txt_rdata(t));
    return answer;
}

inline dns::Answer status_answer(dns::Answer::Status status) {
    dns::Answer answer;
    answer.status = status;
    answer.why = "test";
    return answer;
}

// The DNS as a map from query name to answer; a name not in it is NXDOMAIN.
using Zone = std::map<std::string, dns::Answer>;

struct Verified {
    std::vector<DkimResult> results;
    std::vector<std::string> queries;  // the names asked, in order
};

// Feeds `message` (CRLF text) to `sink`, a verifier, signer or sealer: its header fields, then,
// for a LookupDriven sink, the DNS answers from `zone` to what it asks (the names recorded in
// `queries`), then the body in chunks of `chunk` octets (0: one chunk) and its end.
template <class Sink>
void feed_message(Sink& sink, std::string_view message, std::size_t chunk, const Zone& zone = {},
                  std::vector<std::string>* queries = nullptr) {
    auto split = message::split_header(message);
    for (const std::string& f : split.fields)
        sink.header(f);
    sink.end_headers();
    if constexpr (LookupDriven<Sink>) {
        while (auto query = sink.next_query()) {
            if (queries != nullptr) queries->push_back(query->name);
            auto it = zone.find(query->name);
            sink.feed(it != zone.end() ? it->second
                                       : status_answer(dns::Answer::Status::kNxDomain));
        }
    }
    std::string_view body = split.body;
    if (chunk == 0) chunk = std::max<std::size_t>(1, body.size());
    for (std::size_t i = 0; i < body.size(); i += chunk)
        sink.body(body.substr(i, chunk));
    sink.end_body();
}

// The message through a DkimVerifier, the body in chunks of `chunk` octets (0: one chunk), the
// key lookups done between the header and the body.
inline Verified verify(std::string_view message, const Zone& zone, std::int64_t now,
                       DkimVerifyOptions options = {}, std::size_t chunk = 0) {
    DkimVerifier verifier(options, now);
    Verified out;
    feed_message(verifier, message, chunk, zone, &out.queries);
    out.results = verifier.results();
    return out;
}

inline Zone rfc8463_zone() {
    return Zone{{"brisbane._domainkey.football.example.com", txt_answer({kRfc8463EdRecord})},
                {"test._domainkey.football.example.com", txt_answer({kRfc8463RsaRecord})}};
}

// The signature fields `keys` make for `message`, prepended to it.
inline std::string sign(std::string_view message, std::vector<SigningKey> keys, std::int64_t now,
                        DkimSignOptions options = {}) {
    DkimSigner signer(std::move(options), std::move(keys), now);
    feed_message(signer, message, 0);
    auto fields = signer.signatures();
    if (!fields) return "error: " + fields.error().message;
    std::string out;
    for (const std::string& f : *fields)
        out += f;
    return out + std::string(message);
}

inline std::shared_ptr<const PrivateKey> shared_key(Result<PrivateKey> key) {
    return std::make_shared<const PrivateKey>(std::move(*key));
}

}  // namespace tern::mailauth::testing
