"""A tiny FastCGI client (responder role), enough to drive boxoffice-fcgi directly.

One request per connection (FCGI_KEEP_CONN off, like nginx's default).
"""
import socket
import struct

FCGI_VERSION = 1
FCGI_BEGIN_REQUEST = 1
FCGI_END_REQUEST = 3
FCGI_PARAMS = 4
FCGI_STDIN = 5
FCGI_STDOUT = 6
FCGI_STDERR = 7
FCGI_RESPONDER = 1


def _record(rtype, req_id, content=b""):
    out = b""
    # a record carries at most 65535 bytes of content
    for off in range(0, max(len(content), 1), 65535):
        chunk = content[off:off + 65535]
        pad = (8 - len(chunk) % 8) % 8
        out += struct.pack("!BBHHBx", FCGI_VERSION, rtype, req_id, len(chunk), pad)
        out += chunk + b"\0" * pad
    return out


def _nv_len(n):
    return struct.pack("!B", n) if n < 128 else struct.pack("!I", n | 0x80000000)


def _params(params):
    body = b""
    for k, v in params.items():
        k = k.encode() if isinstance(k, str) else k
        v = v.encode() if isinstance(v, str) else v
        body += _nv_len(len(k)) + _nv_len(len(v)) + k + v
    return body


class Response:
    def __init__(self, status, headers, body, stderr, app_status):
        self.status = status
        self.headers = headers          # list of (name, value)
        self.body = body
        self.stderr = stderr
        self.app_status = app_status

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None


def _recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("FastCGI connection closed mid-record")
        buf += chunk
    return buf


def request(sock_path, method="GET", uri="/api/health", body=b"", headers=None,
            content_type=None, content_length=None, timeout=10.0, before_send=None,
            conn=None):
    """Send one request to a FastCGI socket and return a Response.

    before_send, if given, is called once connected, before a byte is sent
    (a worker may have accepted the connection by then). conn, if given, is
    a connected socket that the request goes on with FCGI_KEEP_CONN set, as
    nginx's fastcgi_keep_conn does; it stays open for the next request."""
    path, _, query = uri.partition("?")
    params = {
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_SOFTWARE": "boxoffice-test-fcgi-client",
        "REQUEST_METHOD": method,
        "REQUEST_URI": uri,
        "DOCUMENT_URI": path,
        "SCRIPT_NAME": path,
        "QUERY_STRING": query,
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "40000",
        "SERVER_ADDR": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_NAME": "localhost",
        "CONTENT_LENGTH": str(len(body) if content_length is None else content_length),
    }
    if content_type is not None:
        params["CONTENT_TYPE"] = content_type
    for k, v in (headers or {}).items():
        params["HTTP_" + k.upper().replace("-", "_")] = v

    s = conn or socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        if conn is None:
            s.connect(sock_path)
        if before_send is not None:
            before_send()
        req_id = 1
        keep = 1 if conn is not None else 0   # FCGI_KEEP_CONN
        msg = _record(FCGI_BEGIN_REQUEST, req_id, struct.pack("!HB5x", FCGI_RESPONDER, keep))
        msg += _record(FCGI_PARAMS, req_id, _params(params))
        msg += _record(FCGI_PARAMS, req_id)
        if body:
            msg += _record(FCGI_STDIN, req_id, body)
        msg += _record(FCGI_STDIN, req_id)
        try:
            s.sendall(msg)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the app may answer (413) before reading the whole body
        out, err, app_status = b"", b"", None
        while True:
            hdr = _recv_exact(s, 8)
            _ver, rtype, _rid, clen, plen = struct.unpack("!BBHHBx", hdr)
            content = _recv_exact(s, clen + plen)[:clen]
            if rtype == FCGI_STDOUT:
                out += content
            elif rtype == FCGI_STDERR:
                err += content
            elif rtype == FCGI_END_REQUEST:
                app_status = struct.unpack("!IB3x", content)[0]
                break
    finally:
        if conn is None:
            s.close()

    head, sep, payload = out.partition(b"\r\n\r\n")
    if not sep:
        head, sep, payload = out.partition(b"\n\n")
    status, hdrs = 200, []
    for line in head.decode("latin-1").splitlines():
        if ":" not in line:
            continue
        k, v = line.split(":", 1)
        v = v.strip()
        if k.lower() == "status":
            status = int(v.split()[0])
        hdrs.append((k.strip(), v))
    return Response(status, hdrs, payload, err, app_status)
