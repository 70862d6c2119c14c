// The HTTP-free shape of one API exchange. The Beast session converts to and from these, so the
// router, auth and handlers can be tested (and compiled) without any socket code.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace tinyedge::dashboard {

enum class Method { kGet, kHead, kPost, kPut, kDelete, kOther };
const char* to_string(Method m);

enum class Role { kNone = 0, kViewer = 1, kOperator = 2 };
const char* to_string(Role r);

struct ApiRequest {
  Method method = Method::kGet;
  std::string path;                                  // percent-decoded, without the query string
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in arrival order
  std::string authorization;                         // raw Authorization header, may be empty
  std::string content_type;
  std::string body;
  std::string client;                                // remote address, for limits and logs
};

// The body of a live response (server-sent events, text/event-stream) that stays open: the server
// sends the response's `body` first, then calls poll() on its handler pool every feed interval
// and sends whatever it returns (nothing when empty), until the client goes away or the server
// stops. poll() may block briefly on the store; it is never called twice at once.
class EventFeed {
 public:
  virtual ~EventFeed() = default;
  virtual std::string poll() = 0;
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::shared_ptr<EventFeed> feed{};  // set: a live response (see EventFeed)
};

// Thrown by handlers and validators; the server turns it into `status` with a JSON error body.
class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string code, const std::string& message)
      : std::runtime_error(message), status_(status), code_(std::move(code)) {}
  int status() const { return status_; }
  const std::string& code() const { return code_; }

 private:
  int status_;
  std::string code_;
};

// The one way store-derived data becomes JSON text. Text in the store is not guaranteed UTF-8 (a
// store written by older gateways kept node strings as the node sent them; the file may have
// been edited): invalid bytes become U+FFFD instead of dump() throwing, which would turn one
// node's bad string into a 500 for the whole fleet. `indent` as in nlohmann::json::dump.
std::string json_text(const nlohmann::json& value, int indent = -1);

// {"error": {"code": ..., "message": ..., "status": ...}}
ApiResponse error_response(int status, const std::string& code, const std::string& message);
// `body` goes out through json_text(). Text that is already JSON (the OpenAPI document, built
// from the route table) uses json_text_response; a string passed here would otherwise become a
// JSON string, hence the deleted overloads.
ApiResponse json_response(int status, const nlohmann::json& body);
ApiResponse json_response(int status, const std::string& body) = delete;
ApiResponse json_response(int status, std::string&& body) = delete;
ApiResponse json_response(int status, const char* body) = delete;
ApiResponse json_text_response(int status, std::string json_text);

}  // namespace tinyedge::dashboard
