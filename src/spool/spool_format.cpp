// Encoding and decoding of the spool file formats described in docs/spool.md.
// Everything read back is checked: a torn or corrupt record is rejected, never half-applied.
#include "spool/spool_format.h"

#include <fmt/format.h>
#include <zlib.h>

#include <charconv>
#include <cstring>
#include <vector>

namespace tern::spool {
namespace {

std::string_view body_name(smtp::BodyType b) {
    switch (b) {
        case smtp::BodyType::k7Bit:
            return "7bit";
        case smtp::BodyType::k8BitMime:
            return "8bitmime";
        case smtp::BodyType::kBinaryMime:
            return "binarymime";
        default:
            return "-";
    }
}

std::string_view ret_name(smtp::DsnRet r) {
    switch (r) {
        case smtp::DsnRet::kFull:
            return "full";
        case smtp::DsnRet::kHeaders:
            return "hdrs";
        default:
            return "-";
    }
}

// xtext, with "-" standing for the empty string.
std::string field(std::string_view value) {
    return value.empty() ? "-" : smtp::encode_xtext(value);
}

std::optional<std::string> unfield(std::string_view value) {
    if (value == "-") return std::string();
    return smtp::decode_xtext(value);
}

std::vector<std::string_view> split_spaces(std::string_view line) {
    std::vector<std::string_view> parts;
    while (!line.empty()) {
        auto sp = line.find(' ');
        parts.push_back(line.substr(0, sp));
        if (sp == std::string_view::npos) break;
        line.remove_prefix(sp + 1);
    }
    return parts;
}

template <class T>
bool to_number(std::string_view s, T& out) {
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && ptr == s.data() + s.size();
}

void put_u64(std::string& out, std::uint64_t v) {
    for (int i = 0; i < 8; ++i)
        out += static_cast<char>((v >> (8 * i)) & 0xff);
}
void put_u32(std::string& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i)
        out += static_cast<char>((v >> (8 * i)) & 0xff);
}
std::uint64_t get_u64(const char* p) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i)
        v = (v << 8) | static_cast<unsigned char>(p[i]);
    return v;
}
std::uint32_t get_u32(const char* p) {
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i)
        v = (v << 8) | static_cast<unsigned char>(p[i]);
    return v;
}

smtp::DsnNotify parse_notify(std::string_view s, bool& ok) {
    smtp::DsnNotify n;
    ok = true;
    if (s == "-") return n;
    while (!s.empty()) {
        auto comma = s.find(',');
        std::string_view w = s.substr(0, comma);
        if (w == "NEVER")
            n.never = true;
        else if (w == "SUCCESS")
            n.success = true;
        else if (w == "FAILURE")
            n.failure = true;
        else if (w == "DELAY")
            n.delay = true;
        else
            ok = false;
        if (comma == std::string_view::npos) break;
        s.remove_prefix(comma + 1);
    }
    return n;
}

std::string with_crc(std::string line) {
    std::uint32_t crc = crc32_update(0, line);
    line += fmt::format(" {:08x}\n", crc);
    return line;
}

}  // namespace

bool Message::complete() const {
    for (const auto& r : recipients)
        if (!r.final() || !r.reported) return false;
    return true;
}

std::string_view status_name(RecipientStatus status) {
    switch (status) {
        case RecipientStatus::kPending:
            return "pending";
        case RecipientStatus::kDeferred:
            return "deferred";
        case RecipientStatus::kDelivered:
            return "delivered";
        case RecipientStatus::kFailed:
            return "failed";
    }
    return "pending";
}

std::uint32_t crc32_update(std::uint32_t crc, std::string_view data) {
    // zlib's crc32 takes a uInt length; feed large inputs in pieces.
    while (!data.empty()) {
        auto n = static_cast<uInt>(std::min<std::size_t>(data.size(), 1u << 30));
        crc = static_cast<std::uint32_t>(
            ::crc32(crc, reinterpret_cast<const Bytef*>(data.data()), n));
        data.remove_prefix(n);
    }
    return crc;
}

std::string encode_envelope(const Message& m) {
    std::string out(kEnvelopeMagic);
    auto line = [&](std::string_view key, std::string_view value) {
        out += key;
        out += ' ';
        out += value;
        out += '\n';
    };
    line("id", m.id);
    line("arrival", std::to_string(m.arrival));
    line("sender", field(m.sender));
    line("body", body_name(m.body));
    line("smtputf8", m.smtputf8 ? "1" : "0");
    line("requiretls", m.requiretls ? "1" : "0");
    line("ret", ret_name(m.ret));
    line("envid", field(m.envid));
    line("client_ip", field(m.client_ip));
    line("client_name", field(m.client_name));
    line("helo", field(m.helo));
    line("auth_user", field(m.auth_user));
    line("protocol", field(m.protocol));
    for (const auto& r : m.recipients) {
        std::string notify = r.notify.str();
        line("rcpt", field(r.address) + " " + field(r.original) + " " + field(r.orcpt) + " " +
                         (notify.empty() ? "-" : notify));
    }
    // Came later, as a key of its own: files without it load as before, and an older reader
    // skips it (relaying such recipients with the original sender).
    for (std::size_t i = 0; i < m.recipients.size(); ++i)
        if (m.recipients[i].forwarded) line("forwarded", std::to_string(i));
    out += "end\n";
    return out;
}

std::optional<Message> decode_envelope(std::string_view block) {
    if (!block.starts_with(kEnvelopeMagic)) return std::nullopt;
    block.remove_prefix(kEnvelopeMagic.size());
    Message m;
    bool ended = false;
    while (!block.empty()) {
        auto nl = block.find('\n');
        if (nl == std::string_view::npos) return std::nullopt;
        std::string_view line = block.substr(0, nl);
        block.remove_prefix(nl + 1);
        if (line == "end") {
            ended = true;
            break;
        }
        auto sp = line.find(' ');
        if (sp == std::string_view::npos) return std::nullopt;
        std::string_view key = line.substr(0, sp);
        std::string_view value = line.substr(sp + 1);
        auto text = [&](std::string& dst) {
            auto v = unfield(value);
            if (!v) return false;
            dst = std::move(*v);
            return true;
        };
        bool ok = true;
        if (key == "id") {
            m.id = std::string(value);
        } else if (key == "arrival") {
            ok = to_number(value, m.arrival);
        } else if (key == "sender") {
            ok = text(m.sender);
        } else if (key == "body") {
            m.body = value == "7bit"         ? smtp::BodyType::k7Bit
                     : value == "8bitmime"   ? smtp::BodyType::k8BitMime
                     : value == "binarymime" ? smtp::BodyType::kBinaryMime
                                             : smtp::BodyType::kUnspecified;
        } else if (key == "smtputf8") {
            m.smtputf8 = value == "1";
        } else if (key == "requiretls") {
            // Added later: a file without the key was not received with REQUIRETLS. Any value
            // but "0" keeps the requirement, so a doubt never relaxes it.
            m.requiretls = value != "0";
        } else if (key == "ret") {
            m.ret = value == "full"   ? smtp::DsnRet::kFull
                    : value == "hdrs" ? smtp::DsnRet::kHeaders
                                      : smtp::DsnRet::kUnspecified;
        } else if (key == "envid") {
            ok = text(m.envid);
        } else if (key == "client_ip") {
            ok = text(m.client_ip);
        } else if (key == "client_name") {
            ok = text(m.client_name);
        } else if (key == "helo") {
            ok = text(m.helo);
        } else if (key == "auth_user") {
            ok = text(m.auth_user);
        } else if (key == "protocol") {
            ok = text(m.protocol);
        } else if (key == "rcpt") {
            auto parts = split_spaces(value);
            if (parts.size() != 4) return std::nullopt;
            Recipient r;
            auto a = unfield(parts[0]), o = unfield(parts[1]), c = unfield(parts[2]);
            if (!a || !o || !c || a->empty()) return std::nullopt;
            r.address = std::move(*a);
            r.original = std::move(*o);
            r.orcpt = std::move(*c);
            r.notify = parse_notify(parts[3], ok);
            m.recipients.push_back(std::move(r));
        } else if (key == "forwarded") {
            std::size_t index = 0;
            ok = to_number(value, index) && index < m.recipients.size();
            if (ok) m.recipients[index].forwarded = true;
        }
        // Unknown keys are skipped so that a newer writer's files stay readable.
        if (!ok) return std::nullopt;
    }
    if (!ended || m.id.empty() || m.recipients.empty()) return std::nullopt;
    return m;
}

namespace {

// A trailer: its magic, the lengths (u64 LE each), the CRC of the file before it, and a CRC of
// the trailer so far.
std::string trailer(std::string_view magic, std::initializer_list<std::uint64_t> lengths,
                    std::uint32_t crc) {
    std::string out(magic);
    for (std::uint64_t length : lengths)
        put_u64(out, length);
    put_u32(out, crc);
    put_u32(out, crc32_update(0, out));
    return out;
}

}  // namespace

std::string encode_trailer(std::uint64_t envelope_length, std::uint64_t body_length,
                           std::uint32_t crc) {
    return trailer(kTrailerMagic, {envelope_length, body_length}, crc);
}

std::string encode_trailer2(std::uint64_t envelope_length, std::uint64_t body_length,
                            std::uint64_t edits_length, std::uint32_t crc) {
    return trailer(kTrailerMagic2, {envelope_length, body_length, edits_length}, crc);
}

std::string encode_trailer3(std::uint64_t envelope_length, std::uint64_t body_length,
                            std::uint64_t edits_length, std::uint64_t new_envelope_length,
                            std::uint64_t body_block_length, std::uint32_t crc) {
    return trailer(
        kTrailerMagic3,
        {envelope_length, body_length, edits_length, new_envelope_length, body_block_length}, crc);
}

std::optional<Trailer> decode_trailer(std::string_view bytes) {
    const char* p = bytes.data();
    if (bytes.size() == kTrailer3Size && bytes.starts_with(kTrailerMagic3)) {
        if (get_u32(p + 52) != crc32_update(0, bytes.substr(0, 52))) return std::nullopt;
        return Trailer{get_u64(p + 8), get_u64(p + 16), get_u32(p + 48), get_u64(p + 24),
                       kTrailer3Size,  get_u64(p + 32), get_u64(p + 40)};
    }
    if (bytes.size() == kTrailer2Size && bytes.starts_with(kTrailerMagic2)) {
        if (get_u32(p + 36) != crc32_update(0, bytes.substr(0, 36))) return std::nullopt;
        return Trailer{get_u64(p + 8), get_u64(p + 16), get_u32(p + 32), get_u64(p + 24),
                       kTrailer2Size};
    }
    if (bytes.size() != kTrailerSize || !bytes.starts_with(kTrailerMagic)) return std::nullopt;
    if (get_u32(p + 28) != crc32_update(0, bytes.substr(0, 28))) return std::nullopt;
    return Trailer{get_u64(p + 8), get_u64(p + 16), get_u32(p + 24), 0, kTrailerSize};
}

std::string encode_edits(const std::vector<message::HeaderEdit>& edits, long long delta) {
    std::string out(kEditsMagic);
    out += fmt::format("delta {}\n", delta);
    for (const auto& e : edits) {
        switch (e.kind) {
            case message::HeaderEdit::Kind::kPrepend:
                out += "p " + field(e.field) + "\n";
                break;
            case message::HeaderEdit::Kind::kInsert:
                out += fmt::format("i {} {}\n", e.index, field(e.field));
                break;
            case message::HeaderEdit::Kind::kRemove:
                out += fmt::format("r {}\n", e.index);
                break;
        }
    }
    out += "end\n";
    return out;
}

std::optional<std::pair<std::vector<message::HeaderEdit>, long long>> decode_edits(
    std::string_view block) {
    if (!block.starts_with(kEditsMagic)) return std::nullopt;
    block.remove_prefix(kEditsMagic.size());
    std::vector<message::HeaderEdit> edits;
    long long delta = 0;
    bool have_delta = false;
    while (!block.empty()) {
        auto nl = block.find('\n');
        if (nl == std::string_view::npos) return std::nullopt;
        std::string_view line = block.substr(0, nl);
        block.remove_prefix(nl + 1);
        if (line == "end")
            return block.empty() && have_delta ? std::optional{std::pair{std::move(edits), delta}}
                                               : std::nullopt;
        auto parts = split_spaces(line);
        message::HeaderEdit e;
        if (parts.size() == 2 && parts[0] == "delta") {
            if (!to_number(parts[1], delta)) return std::nullopt;
            have_delta = true;
            continue;
        }
        if (parts.size() == 2 && parts[0] == "p") {
            auto f = unfield(parts[1]);
            if (!f) return std::nullopt;
            e.kind = message::HeaderEdit::Kind::kPrepend;
            e.field = std::move(*f);
        } else if (parts.size() == 3 && parts[0] == "i") {
            auto f = unfield(parts[2]);
            if (!f || !to_number(parts[1], e.index)) return std::nullopt;
            e.kind = message::HeaderEdit::Kind::kInsert;
            e.field = std::move(*f);
        } else if (parts.size() == 2 && parts[0] == "r") {
            if (!to_number(parts[1], e.index)) return std::nullopt;
            e.kind = message::HeaderEdit::Kind::kRemove;
        } else {
            return std::nullopt;
        }
        edits.push_back(std::move(e));
    }
    return std::nullopt;
}

std::string encode_recipient_state(std::size_t index, const Recipient& r) {
    return with_crc(fmt::format("R {} {} {} {} {} {} {} {} {} {} {}", index, status_name(r.status),
                                r.attempts, r.next_attempt, r.last_attempt, r.reported ? 1 : 0,
                                field(r.remote_host), field(r.reply), field(r.detail),
                                r.from_host ? "host" : "tern", field(r.verdict)));
}

std::string encode_flag(std::string_view flag) {
    return with_crc(fmt::format("F {}", flag));
}

bool apply_state_line(std::string_view line, Message& m) {
    // "<record> <crc>": the CRC covers everything before the last space.
    auto sp = line.rfind(' ');
    if (sp == std::string_view::npos || line.size() - sp - 1 != 8) return false;
    std::uint32_t crc = 0;
    auto crc_text = line.substr(sp + 1);
    auto [ptr, ec] = std::from_chars(crc_text.data(), crc_text.data() + crc_text.size(), crc, 16);
    if (ec != std::errc() || ptr != crc_text.data() + crc_text.size()) return false;
    std::string_view record = line.substr(0, sp);
    if (crc32_update(0, record) != crc) return false;
    auto parts = split_spaces(record);
    if (parts.size() == 2 && parts[0] == "F") {
        if (parts[1] == "hold")
            m.held = true;
        else if (parts[1] == "release")
            m.held = false;
        else if (parts[1] == "warned")
            m.delay_warned = true;
        else
            return false;
        return true;
    }
    // Nine fields; ten with the detail of the last attempt; twelve with who said the reply and
    // the verdict (each added later; all are read).
    if ((parts.size() != 9 && parts.size() != 10 && parts.size() != 12) || parts[0] != "R")
        return false;
    std::size_t index = 0;
    if (!to_number(parts[1], index) || index >= m.recipients.size()) return false;
    Recipient r = m.recipients[index];
    if (parts[2] == "pending")
        r.status = RecipientStatus::kPending;
    else if (parts[2] == "deferred")
        r.status = RecipientStatus::kDeferred;
    else if (parts[2] == "delivered")
        r.status = RecipientStatus::kDelivered;
    else if (parts[2] == "failed")
        r.status = RecipientStatus::kFailed;
    else
        return false;
    int reported = 0;
    auto host = unfield(parts[7]);
    auto reply = unfield(parts[8]);
    if (!to_number(parts[3], r.attempts) || !to_number(parts[4], r.next_attempt) ||
        !to_number(parts[5], r.last_attempt) || !to_number(parts[6], reported) || !host || !reply)
        return false;
    std::optional<std::string> detail = std::string();
    std::optional<std::string> verdict = std::string();
    if (parts.size() >= 10) detail = unfield(parts[9]);
    if (parts.size() == 12) {
        if (parts[10] != "host" && parts[10] != "tern") return false;
        verdict = unfield(parts[11]);
    }
    if (!detail || !verdict) return false;
    r.reported = reported != 0;
    // Lines written before the origin was recorded: a reply with a remote host was taken as
    // that host's (the old notices' reading).
    r.from_host = parts.size() == 12 ? parts[10] == "host" : !host->empty() && *host != "local";
    r.remote_host = std::move(*host);
    r.reply = std::move(*reply);
    r.detail = std::move(*detail);
    r.verdict = std::move(*verdict);
    m.recipients[index] = std::move(r);
    return true;
}

}  // namespace tern::spool
