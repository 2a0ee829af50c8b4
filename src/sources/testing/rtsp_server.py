"""A real RTSP server for lineside's camera tests: GStreamer's RTSP server streaming an H.264
test pattern. Prints the bound port on stdout, then serves until killed.

Usage: /usr/bin/python3 rtsp_server.py PORT [WIDTH HEIGHT FPS [USER PASSWORD]]   (PORT 0 = any free port)
Set CODEC=h265 in the environment for an H.265 stream.
"""
import os
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

Gst.init(None)
port = sys.argv[1] if len(sys.argv) > 1 else "0"
width, height, fps = (sys.argv[2:5] + ["640", "360", "15"][len(sys.argv[2:5]):])
user, password = (sys.argv[5], sys.argv[6]) if len(sys.argv) > 6 else (None, None)

server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(port)
factory = GstRtspServer.RTSPMediaFactory()
if os.environ.get("CODEC") == "h265":
    encode = f"x265enc tune=zerolatency speed-preset=ultrafast key-int-max={fps} ! rtph265pay name=pay0 pt=96"
else:
    encode = f"x264enc tune=zerolatency speed-preset=ultrafast key-int-max={fps} ! rtph264pay name=pay0 pt=96"
factory.set_launch(
    f"( videotestsrc is-live=true pattern=ball ! video/x-raw,width={width},height={height},framerate={fps}/1 ! {encode} )"
)
factory.set_shared(True)
if user:
    auth = GstRtspServer.RTSPAuth()
    token = GstRtspServer.RTSPToken()
    token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "operator")
    auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
    server.set_auth(auth)
    permissions = GstRtspServer.RTSPPermissions()
    permissions.add_role("operator")
    permissions.add_permission_for_role("operator", GstRtspServer.RTSP_PERM_MEDIA_FACTORY_ACCESS, True)
    permissions.add_permission_for_role("operator", GstRtspServer.RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, True)
    factory.set_permissions(permissions)
server.get_mount_points().add_factory("/line", factory)
if server.attach(None) == 0:
    sys.exit(f"cannot listen on 127.0.0.1:{port}")
print(server.get_bound_port(), flush=True)
GLib.MainLoop().run()
