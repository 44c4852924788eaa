"""pyzmq: libzmq and libsodium from pyzmq.libs, loaded with the extension."""
import zmq

context = zmq.Context()
a, b = context.socket(zmq.PAIR), context.socket(zmq.PAIR)
a.bind("inproc://relink")
b.connect("inproc://relink")
a.send_string("ping")
print(b.recv_string(), zmq.zmq_version_info() >= (4, 0), zmq.has("curve"))
a.close()
b.close()
context.term()
