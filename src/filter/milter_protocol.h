// The milter protocol, version 6 (Sendmail's libmilter, as Postfix speaks it), sans-I/O: the
// MTA's commands as frames, and a decoder that turns a filter's bytes, split any way, into whole
// responses. Input from the filter is not trusted: every frame is size-checked and parsed strictly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.h"
#include "smtp/replies.h"

namespace tern::filter::milter {

inline constexpr std::uint32_t kVersion = 6;
// Largest body chunk in one SMFIC_BODY frame (libmilter's MILTER_CHUNK_SIZE).
inline constexpr std::size_t kMaxBodyChunk = 65535;

// What a filter may do at the end of a message (SMFIF_*), offered and granted in negotiation.
enum Action : std::uint32_t {
    kAddHeaders = 0x01,
    kChangeBody = 0x02,
    kAddRecipient = 0x04,
    kDeleteRecipient = 0x08,
    kChangeHeaders = 0x10,
    kQuarantine = 0x20,
    kChangeFrom = 0x40,
    kAddRecipientWithArgs = 0x80,
    kSetMacroList = 0x100,
};

// Protocol steps (SMFIP_*): steps the filter does not want (kNo*), steps it will not answer
// (kNoReply*), and what the MTA understands (kSkip, kHeaderLeadingSpace).
enum Step : std::uint32_t {
    kNoConnect = 0x1,
    kNoHelo = 0x2,
    kNoMail = 0x4,
    kNoRcpt = 0x8,
    kNoBody = 0x10,
    kNoHeaders = 0x20,
    kNoEndOfHeaders = 0x40,
    kNoReplyHeader = 0x80,
    kNoUnknown = 0x100,
    kNoData = 0x200,
    kSkip = 0x400,
    kRejectedRcpts = 0x800,
    kNoReplyConnect = 0x1000,
    kNoReplyHelo = 0x2000,
    kNoReplyMail = 0x4000,
    kNoReplyRcpt = 0x8000,
    kNoReplyData = 0x10000,
    kNoReplyUnknown = 0x20000,
    kNoReplyEndOfHeaders = 0x40000,
    kNoReplyBody = 0x80000,
    kHeaderLeadingSpace = 0x100000,
    kMaxData256K = 0x10000000,
    kMaxData1M = 0x20000000,
};

// The MTA's commands (SMFIC_*); also the step a macro list belongs to.
enum class Command : char {
    kAbort = 'A',
    kBody = 'B',
    kConnect = 'C',
    kMacro = 'D',
    kEndOfBody = 'E',
    kHelo = 'H',
    kQuitNewConnection = 'K',
    kHeader = 'L',
    kMail = 'M',
    kEndOfHeaders = 'N',
    kOptionNegotiation = 'O',
    kQuit = 'Q',
    kRcpt = 'R',
    kData = 'T',
    kUnknown = 'U',
};

// How the client reached the MTA, for SMFIC_CONNECT.
enum class Family : char { kUnknown = 'U', kUnix = 'L', kInet4 = '4', kInet6 = '6' };

// One frame: a 4-octet big-endian length (command octet included), the command, its data.
std::string frame(char command, std::string_view data);

std::string encode_optneg(std::uint32_t version, std::uint32_t actions, std::uint32_t steps);
// `address` and `port` are left out for Family::kUnknown.
std::string encode_connect(std::string_view hostname, Family family, std::uint16_t port,
                           std::string_view address);
std::string encode_helo(std::string_view name);
// `args`: the address in angle brackets, then each ESMTP parameter ("SIZE=100").
std::string encode_mail(const std::vector<std::string>& args);
std::string encode_rcpt(const std::vector<std::string>& args);
std::string encode_data();
// `value` as the filter sees it: without the colon, folds as "\n", no final line break.
std::string encode_header(std::string_view name, std::string_view value);
std::string encode_end_of_headers();
// Appends `bytes` to `out` as SMFIC_BODY frames of at most kMaxBodyChunk octets each.
void encode_body(std::string_view bytes, std::string& out);
std::string encode_end_of_body();
std::string encode_abort();
std::string encode_quit();
std::string encode_quit_new_connection();
// The macros defined for the step `step` (sent just before that step's command).
std::string encode_macros(Command step,
                          const std::vector<std::pair<std::string, std::string>>& macros);

// A filter's response (SMFIR_*, and its SMFIC_OPTNEG reply).
struct Response {
    enum class Kind : char {
        kAddRecipient = '+',
        kDeleteRecipient = '-',
        kAddRecipientWithArgs = '2',
        kShutdown = '4',
        kAccept = 'a',
        kReplaceBody = 'b',
        kContinue = 'c',
        kDiscard = 'd',
        kChangeFrom = 'e',
        kConnectionFailure = 'f',
        kAddHeader = 'h',
        kInsertHeader = 'i',
        kChangeHeader = 'm',
        kOptionNegotiation = 'O',
        kProgress = 'p',
        kQuarantine = 'q',
        kReject = 'r',
        kSkip = 's',
        kTempfail = 't',
        kReplyCode = 'y',
    };
    Kind kind = Kind::kContinue;
    std::uint32_t index = 0;  // insert/change header: the position (Postfix/Sendmail indexing)
    // Header name; recipient or sender address; reply text ("550 5.7.1 text"); quarantine reason.
    std::string text;
    std::string value;  // header value; ESMTP arguments of addrcpt_par/chgfrom; replbody octets
    // Option negotiation.
    std::uint32_t version = 0;
    std::uint32_t actions = 0;
    std::uint32_t steps = 0;
    std::vector<std::pair<std::uint32_t, std::string>> macro_lists;  // (stage, "j {rcpt_addr}")

    bool operator==(const Response&) const = default;
};

// A response from its command octet and data; an error names what is wrong with it.
[[nodiscard]] Result<Response> decode_response(char command, std::string_view data);

// A reply text from SMFIR_REPLYCODE ("550 5.7.1 Go away", lines joined by CRLF, each with the
// same code) as an SMTP reply; an error when it is not a 4xx/5xx reply or holds control bytes.
[[nodiscard]] Result<smtp::Reply> parse_reply_code(std::string_view text);

// Reassembles frames from the filter's bytes in whatever pieces they come. Once it reports an
// error it stays broken: the connection cannot be trusted past a bad frame.
class FrameDecoder {
  public:
    explicit FrameDecoder(std::size_t max_frame) : max_frame_(max_frame) {}

    void feed(std::string_view bytes) { buffer_.append(bytes); }
    // The next whole response; nullopt when more bytes are needed.
    [[nodiscard]] Result<std::optional<Response>> next();

  private:
    std::size_t max_frame_;  // octets of data (command octet excluded) one frame may carry
    std::string buffer_;
    std::size_t start_ = 0;  // where the unread bytes begin in buffer_
    std::optional<Error> broken_;
};

}  // namespace tern::filter::milter
