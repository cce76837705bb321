"""The browser tests' own server: a client that drops its connection mid-download (as Chromium does when a
navigation cancels a script still loading) leaves no static file open behind it. Werkzeug skips closing the
response when draining the dropped socket fails, and under `filterwarnings = error` the file's
ResourceWarning failed whichever browser test happened to be running when it was collected."""
import gc
import socket
import struct
import warnings

RESET_ON_CLOSE = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends a reset, not a FIN


def drop_mid_download(port: int, path: str) -> None:
    client = socket.create_connection(("127.0.0.1", port))
    try:
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
        client.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        assert client.recv(16).startswith(b"HTTP/1.1 200")
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET_ON_CLOSE)
    finally:
        client.close()


def test_a_dropped_download_leaves_no_static_file_open(live_server):
    port = int(live_server.url.rsplit(":", 1)[1])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        for _ in range(60):
            drop_mid_download(port, "/static/vendor/htmx.min.js")
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
