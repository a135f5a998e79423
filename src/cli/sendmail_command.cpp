// `tern sendmail`: sendmail's options parsed as sendmail parses them (a value joined to its
// option or in the next argument), the message read from standard input and made ready
// (message/local_submission.h), then dropped into the maildrop (spool/maildrop.h) for the daemon.
#include "cli/sendmail_command.h"

#include <fmt/format.h>
#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <variant>

#include "base/text.h"
#include "base/unique_fd.h"
#include "cli/queue_command.h"
#include "config/config.h"
#include "message/address_list.h"
#include "message/local_submission.h"
#include "net/endpoint.h"
#include "smtp/command.h"
#include "spool/maildrop.h"

namespace tern::cli {
namespace {

struct SendmailArgs {
    std::string mode = "m";  // -b: m (deliver), s (SMTP on stdio), p (list the queue), i (aliases)
    bool queue_run = false;  // -q
    bool extract = false;    // -t
    bool dot_ends = true;    // without -i / -oi
    std::optional<std::string> sender;  // -f / -r
    std::string full_name;              // -F
    std::string notify, ret, envid;     // -N, -R, -V
    std::string config;                 // -C (or Tern's -c)
    std::vector<std::string> recipients;
};

int usage(const std::string& what) {
    std::cerr << "sendmail: " << what
              << "\nusage: sendmail [-t] [-i] [-f sender] [-F name] [-N dsn] [-R ret] [-V envid] "
                 "[-C config] [recipient ...]\n       sendmail -bp | -bs | -q\n";
    return kExUsage;
}

// Parses sendmail's arguments; an error text for a usage error.
std::variant<SendmailArgs, std::string> parse_args(const std::vector<std::string>& args) {
    SendmailArgs a;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg == "--") {
            a.recipients.insert(a.recipients.end(), args.begin() + static_cast<long>(i) + 1,
                                args.end());
            break;
        }
        if (arg.size() < 2 || arg[0] != '-') {
            a.recipients.push_back(arg);
            continue;
        }
        char option = arg[1];
        // The options that take a value, joined ("-fuser") or as the next argument.
        if (std::string_view("frFNRVBLCcXh").find(option) != std::string_view::npos) {
            std::string value;
            if (arg.size() > 2) {
                value = arg.substr(2);
            } else if (i + 1 < args.size()) {
                value = args[++i];
            } else {
                return fmt::format("option -{} needs a value", option);
            }
            switch (option) {
                case 'f':
                case 'r':
                    a.sender = value;
                    break;
                case 'F':
                    a.full_name = value;
                    break;
                case 'N':
                    a.notify = ascii_upper(value);
                    std::erase(a.notify, ' ');
                    break;
                case 'R':
                    a.ret = ascii_upper(value);
                    break;
                case 'V':
                    a.envid = value;
                    break;
                case 'C':
                case 'c':
                    a.config = value;
                    break;
                default:  // -B body type, -L label, -X log file, -h hops: accepted, unused
                    break;
            }
            continue;
        }
        switch (option) {
            case 't':
                a.extract = true;
                break;
            case 'i':
                a.dot_ends = false;
                break;
            case 'o':  // -oi as -i; other -o options of Sendmail are accepted and unused
                if (arg == "-oi") a.dot_ends = false;
                break;
            case 'b':
                if (arg.size() != 3 ||
                    std::string_view("mspi").find(arg[2]) == std::string_view::npos)
                    return "unsupported mode " + arg + " (Tern knows -bm, -bs, -bp, -bi)";
                a.mode = arg.substr(2);
                break;
            case 'q':
                a.queue_run = true;
                break;
            case 'v':
            case 'm':
            case 'n':
            case 'U':
            case 'e':
                break;
            default:
                return "unknown option " + arg;
        }
    }
    if (!a.notify.empty() && a.notify != "NEVER") {
        std::string_view rest = a.notify;
        while (true) {
            auto comma = rest.find(',');
            auto word = trim_blanks(rest.substr(0, comma));
            if (word != "SUCCESS" && word != "FAILURE" && word != "DELAY")
                return std::string(
                    "-N takes never, or success, delay and failure separated by commas");
            if (comma == std::string_view::npos) break;
            rest = rest.substr(comma + 1);
        }
    }
    if (!a.ret.empty() && a.ret != "FULL" && a.ret != "HDRS") return "-R takes full or hdrs";
    return a;
}

// The configuration: -C/-c, else $TERN_CONFIG, else /etc/tern/tern.toml when it exists, else
// the embedded defaults (as `tern serve` without a file).
Result<config::Config> load_config(const std::string& given) {
    std::string path = given;
    if (path.empty()) {
        if (const char* env = std::getenv("TERN_CONFIG"); env && *env) path = env;
    }
    if (path.empty() && std::filesystem::exists("/etc/tern/tern.toml"))
        path = "/etc/tern/tern.toml";
    if (path.empty()) return config::defaults();
    return config::load_file(path);
}

std::string login_name() {
    std::array<char, 4096> buf{};
    struct passwd pw {};
    struct passwd* found = nullptr;
    if (::getpwuid_r(::getuid(), &pw, buf.data(), buf.size(), &found) == 0 && found)
        return found->pw_name;
    return "uid" + std::to_string(::getuid());
}

// "user" -> "user@domain"; an address with a domain stays as it is.
std::string qualified(std::string address, const std::string& domain) {
    if (!address.empty() && address.find('@') == std::string::npos) address += "@" + domain;
    return address;
}

// A user name without a domain: letters, digits and . _ - + only.
bool bare_name(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '+'))
            return false;
    return true;
}

// Standard input, at most `limit` + 1 octets (one more tells it is over).
std::string read_input(std::uint64_t limit) {
    std::string in;
    std::array<char, 65536> buf{};
    while (in.size() <= limit) {
        ssize_t n = ::read(STDIN_FILENO, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        in.append(buf.data(), static_cast<std::size_t>(n));
    }
    return in;
}

// -bs: standard input and output joined to the daemon's MX listener until either side closes.
int smtp_on_stdio(const config::Config& c) {
    if (c.smtp_listen.empty()) {
        std::cout << "421 4.3.0 Tern has no MX listener for sendmail -bs\r\n" << std::flush;
        return kExUnavailable;
    }
    auto endpoint = net::parse_endpoint(c.smtp_listen.front());
    if (!endpoint) {
        std::cerr << "sendmail: " << endpoint.error().message << "\n";
        return kExConfig;
    }
    auto address = endpoint->address();
    if (address.is_unspecified())  // listening on every address: ask on loopback
        address = address.is_v6()
                      ? boost::asio::ip::address(boost::asio::ip::address_v6::loopback())
                      : boost::asio::ip::address(boost::asio::ip::address_v4::loopback());
    boost::asio::ip::tcp::endpoint target(address, endpoint->port());
    UniqueFd fd(::socket(target.protocol().family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid() ||
        ::connect(fd.get(), target.data(), static_cast<socklen_t>(target.size())) != 0) {
        std::cout << "421 4.3.2 The Tern daemon is not running; try again later\r\n" << std::flush;
        return kExUnavailable;
    }
    std::array<pollfd, 2> fds{pollfd{STDIN_FILENO, POLLIN, 0}, pollfd{fd.get(), POLLIN, 0}};
    std::array<char, 16384> buf{};
    bool input_open = true;
    while (true) {
        fds[0].fd = input_open ? STDIN_FILENO : -1;
        if (::poll(fds.data(), fds.size(), -1) < 0) {
            if (errno == EINTR) continue;
            return kExSoftware;
        }
        if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = ::read(fd.get(), buf.data(), buf.size());
            if (n <= 0) return kExOk;  // the daemon ended the session (QUIT, or a timeout)
            for (ssize_t done = 0; done < n;) {
                ssize_t w =
                    ::write(STDOUT_FILENO, buf.data() + done, static_cast<std::size_t>(n - done));
                if (w <= 0) return kExSoftware;
                done += w;
            }
        }
        if (input_open && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t n = ::read(STDIN_FILENO, buf.data(), buf.size());
            if (n <= 0) {
                input_open = false;
                ::shutdown(fd.get(), SHUT_WR);
                continue;
            }
            for (ssize_t done = 0; done < n;) {
                ssize_t w = ::send(fd.get(), buf.data() + done, static_cast<std::size_t>(n - done),
                                   MSG_NOSIGNAL);
                if (w <= 0) return kExSoftware;
                done += w;
            }
        }
    }
}

// The maildrop directory, made when the caller may (root, or the daemon's own user); it is
// normally made by the daemon at start.
Result<std::string> maildrop_dir(const config::Config& c) {
    std::string dir = c.data_dir + "/maildrop";
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return dir;
    if (auto r = spool::make_maildrop(dir); !r) return std::unexpected(r.error());
    return dir;
}

}  // namespace

int run_sendmail(const std::vector<std::string>& args, bool as_mailq) {
    auto parsed = parse_args(args);
    if (auto* error = std::get_if<std::string>(&parsed)) return usage(*error);
    auto& a = std::get<SendmailArgs>(parsed);
    if (as_mailq) a.mode = "p";
    auto config = load_config(a.config);
    if (!config) {
        std::cerr << "sendmail: " << config.error().message << "\n";
        return kExConfig;
    }
    if (a.mode == "p" || a.queue_run) {
        QueueCommand q;
        q.action = a.mode == "p" ? "list" : "retry";
        q.all = a.queue_run;
        q.socket_path = config->data_dir + "/control.sock";
        q.spool_dir = config->data_dir + "/spool";
        int status = run_queue_command(q);
        return status == 0 ? kExOk : status == 2 ? kExUnavailable : kExSoftware;
    }
    if (a.mode == "i") {
        std::cerr << "sendmail: Tern reads the aliases file when the daemon starts; restart it "
                     "after a change (nothing to build)\n";
        return kExOk;
    }
    if (a.mode == "s") return smtp_on_stdio(*config);

    std::string domain =
        config->local_domains.empty() ? config->hostname : config->local_domains.front();
    std::string sender = a.sender ? *a.sender : login_name();
    if (sender == "<>") sender.clear();
    if (sender.size() >= 2 && sender.front() == '<' && sender.back() == '>')
        sender = sender.substr(1, sender.size() - 2);
    sender = qualified(sender, domain);
    smtp::Offered offered;
    offered.esmtp = offered.smtputf8 = offered.dsn = true;
    if (!smtp::parse_mail("FROM:<" + sender + ">", offered)) {
        std::cerr << "sendmail: bad sender address <" << sender << ">\n";
        return kExDataErr;
    }

    std::uint64_t limit = config->limits.max_message_size;
    std::string input = read_input(limit);
    message::LocalSubmissionOptions options;
    options.dot_ends = a.dot_ends;
    options.extract_recipients = a.extract;
    options.sender = sender;
    options.full_name = a.full_name;
    options.hostname = config->hostname;
    options.now = std::chrono::system_clock::now();
    auto prepared = message::prepare_local_submission(input, options);
    if (prepared.text.size() > limit) {
        std::cerr << "sendmail: the message is larger than the limit of " << limit
                  << " octets ([limits] message_size)\n";
        return kExDataErr;
    }
    for (auto& bad : prepared.invalid) {
        // A bare user name ("To: bob") is a local user, as sendmail has always taken it.
        if (bare_name(bad)) {
            prepared.recipients.push_back(std::move(bad));
            continue;
        }
        std::cerr << "sendmail: warning: not an address in the header: " << bad << "\n";
    }

    spool::MaildropMessage drop;
    drop.sender = sender;
    drop.notify = a.notify;
    drop.ret = a.ret;
    drop.envid = a.envid;
    std::vector<std::string> wanted;
    for (const auto& given : a.recipients) {  // an argument may hold a list: "a@x, b@y"
        auto list = message::parse_address_list(given);
        for (auto& address : list.addresses)
            wanted.push_back(std::move(address));
        for (auto& bad : list.invalid) {
            if (bare_name(bad)) {  // a local user: "root"
                wanted.push_back(std::move(bad));
                continue;
            }
            std::cerr << "sendmail: bad recipient address: " << bad << "\n";
            return kExDataErr;
        }
    }
    for (auto& address : prepared.recipients)
        wanted.push_back(std::move(address));
    for (auto& address : wanted) {
        std::string full = qualified(address, domain);
        if (!smtp::parse_rcpt("TO:<" + full + ">", offered, true)) {
            std::cerr << "sendmail: bad recipient address: " << address << "\n";
            return kExDataErr;
        }
        if (std::ranges::find(drop.recipients, full) == drop.recipients.end())
            drop.recipients.push_back(std::move(full));
    }
    if (drop.recipients.empty())
        return usage(a.extract ? "no recipient addresses found in the message header"
                               : "no recipients given (name them, or use -t)");
    drop.text = std::move(prepared.text);
    auto dir = maildrop_dir(*config);
    if (!dir) {
        std::cerr << "sendmail: cannot use the maildrop: " << dir.error().message << "\n";
        return kExTempFail;
    }
    auto dropped = spool::drop_message(*dir, drop);
    if (!dropped) {
        std::cerr << "sendmail: cannot write to the maildrop: " << dropped.error().message << "\n";
        return kExTempFail;
    }
    return kExOk;
}

}  // namespace tern::cli
