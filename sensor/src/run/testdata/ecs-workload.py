"""Workload for the ECS conformance kernel test: one of each thing the sensor documents.

exec chain (this script runs sh, which runs cat through a pipe), file create/read/write/rename/chmod/delete,
TCP connect and accept, UDP send and receive, a unix socket, and a DNS query answered by a local responder.
Usage: python3 ecs-workload.py WORKDIR DNS_PORT
"""
import os
import socket
import struct
import subprocess
import sys
import threading

work, dns_port = sys.argv[1], int(sys.argv[2])

# exec chain and a pipe
subprocess.run(['/bin/sh', '-c', f'echo provmon | cat > {work}/piped'], check=True)

# files
path = os.path.join(work, 'created')
with open(path, 'w') as f:
    f.write('x' * 100)
with open(path) as f:
    f.read()
os.rename(path, path + '.renamed')
os.chmod(path + '.renamed', 0o600)
os.unlink(path + '.renamed')

# TCP connect / accept
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.bind(('127.0.0.1', 0))
srv.listen(1)
def serve():
    conn, _ = srv.accept()
    conn.recv(100)
    conn.sendall(b'pong')
    conn.close()
t = threading.Thread(target=serve)
t.start()
c = socket.create_connection(srv.getsockname())
c.sendall(b'ping')
c.recv(100)
c.close()
t.join()
srv.close()

# UDP
u1 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u1.bind(('::1', 0))
u2 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u2.sendto(b'datagram', u1.getsockname())
u1.recvfrom(100)
u1.close()
u2.close()

# unix socket
upath = os.path.join(work, 'ecs.sock')
us = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
us.bind(upath)
us.listen(1)
def userve():
    conn, _ = us.accept()
    conn.recv(100)
    conn.close()
ut = threading.Thread(target=userve)
ut.start()
uc = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
uc.connect(upath)
uc.sendall(b'over unix')
uc.close()
ut.join()
us.close()

# DNS: a query for provmon.test, answered by a responder on loopback with one A record
resp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
resp.bind(('127.0.0.1', dns_port))
q = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
qname = b''.join(bytes([len(p)]) + p for p in b'provmon.test'.split(b'.')) + b'\0'
query = struct.pack('>HHHHHH', 0x1234, 0x0100, 1, 0, 0, 0) + qname + struct.pack('>HH', 1, 1)
q.sendto(query, ('127.0.0.1', dns_port))
data, peer = resp.recvfrom(512)
answer = struct.pack('>HHHHHH', 0x1234, 0x8180, 1, 1, 0, 0) + qname + struct.pack('>HH', 1, 1)
answer += b'\xc0\x0c' + struct.pack('>HHIH', 1, 1, 60, 4) + bytes([192, 0, 2, 7])
resp.sendto(answer, peer)
q.recvfrom(512)
q.close()
resp.close()
print('done')
