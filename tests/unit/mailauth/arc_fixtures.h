// Fixtures of the ARC tests: the messages dkimpy sealed (arc_fixtures/, made by arc_dkimpy.py),
// their key, drivers that feed a message to an ArcVerifier or an ArcSealer in chunks, and a
// run of dkimpy's arc_verify over a message.
#pragma once

#include <array>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "dkim_fixtures.h"
#include "mailauth/arc_sealer.h"
#include "mailauth/arc_verifier.h"
#include "message/header_split.h"

namespace tern::mailauth::testing {

// t= of the dkimpy seals is 1700000000 (and +10 for the second hop).
inline constexpr std::int64_t kArcNow = 1700000100;

inline std::string fixture_path(std::string_view name) {
    return std::string(TERN_SOURCE_DIR) + "/tests/unit/mailauth/arc_fixtures/" + std::string(name);
}

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// A fixture message with its CRLF line ends restored (the files are kept with LF).
inline std::string arc_fixture(std::string_view name) {
    return message::to_crlf(read_file(fixture_path(std::string(name) + ".eml")));
}

// The RSA key that sealed the fixtures (both relays use it).
inline std::shared_ptr<const PrivateKey> fixture_key() {
    static auto key = shared_key(PrivateKey::from_pem(read_file(fixture_path("rsa.pem"))));
    return key;
}

inline std::string record_of(const PrivateKey& key) {
    return key_record_text(key.public_key());
}

inline Zone arc_zone() {
    std::string record = record_of(*fixture_key());
    return Zone{{"s1._domainkey.relay1.example", txt_answer({record})},
                {"s2._domainkey.relay2.example", txt_answer({record})}};
}

struct ArcVerified {
    ArcResult result;
    std::vector<std::string> queries;  // the names asked, in order
};

// The message through an ArcVerifier, the body in chunks of `chunk` octets (0: one chunk), the
// lookups done between the header and the body.
inline ArcVerified verify_arc(std::string_view message, const Zone& zone,
                              ArcVerifyOptions options = {}, std::size_t chunk = 0,
                              std::int64_t now = kArcNow) {
    ArcVerifier verifier(options, now);
    ArcVerified out;
    feed_message(verifier, message, chunk, zone, &out.queries);
    out.result = verifier.result();
    return out;
}

// The message with the set an ArcSealer adds for `cv` prepended, or "error: ..." .
inline std::string seal_arc(std::string_view message, SigningKey key, ChainStatus cv,
                            std::string_view results = "spf=pass smtp.mailfrom=origin.example",
                            std::int64_t now = kArcNow, std::size_t chunk = 0) {
    ArcSealer sealer({}, std::move(key), now);
    feed_message(sealer, message, chunk);
    auto fields = sealer.seal(cv, "relay3.example", results);
    if (!fields) return "error: " + fields.error().message;
    std::string out;
    for (const std::string& f : *fields)
        out += f;
    return out + std::string(message);
}

inline SigningKey relay3_key(std::shared_ptr<const PrivateKey> key = fixture_key()) {
    return SigningKey{"relay3.example", "s3", std::move(key), ""};
}

// dkimpy's arc_verify of `message`, the keys of `records` (name, record text) served to it:
// its first output line, "pass success", "fail ...", or "None ..." for a terminated chain.
inline std::string dkimpy_arc_verify(
    std::string_view message, const std::vector<std::pair<std::string, std::string>>& records) {
    char path[] = "/tmp/tern-arc-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return "cannot make a temporary file";
    FILE* file = fdopen(fd, "wb");
    std::fwrite(message.data(), 1, message.size(), file);
    std::fclose(file);
    std::string command = "/usr/bin/python3 " + std::string(TERN_SOURCE_DIR) +
                          "/tests/unit/mailauth/arc_dkimpy.py verify " + path;
    for (const auto& [name, record] : records)
        command += " '" + name + "=" + record + "'";
    command += " 2>&1";
    std::string output;
    if (FILE* pipe = popen(command.c_str(), "r")) {
        std::array<char, 512> buffer;
        while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr)
            output += buffer.data();
        pclose(pipe);
    }
    std::remove(path);
    while (!output.empty() && output.back() == '\n')
        output.pop_back();
    return output;
}

}  // namespace tern::mailauth::testing
