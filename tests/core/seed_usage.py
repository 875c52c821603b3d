# The seed README usage example, kept exactly as its readers type it.
# ruff: noqa: I001, UP008, UP031
import pprint
import stomper
responder = stomper.Engine()
msg = stomper.connect('bob','1234')
server_response = """CONNECTED
session:ID:snorky.local-49191-1185461799654-3:18

\x00
"""
response = responder.react(server_response)
pprint.pprint(stomper.unpack_frame(response))
resp = responder.react(stomper.unpack_frame(response))
DESTINATION='/queue/inbox'
sub = stomper.subscribe(DESTINATION, ack='client')
server_msg = """MESSAGE
destination: /queue/a
message-id: some-message-id

hello queue a

\x00
"""
response = responder.react(server_msg)
class Pong(stomper.Engine):
    def ack(self, msg):
        print("Got a message:\n%s\n" % msg['body'])
        return super(Pong, self).ack(msg)
responder2 = Pong()
response = responder2.react(server_msg)
send_message = stomper.send(DESTINATION, 'hello there')
msg = stomper.Frame()
msg.cmd = 'SEND'
msg.headers = {'destination':'/queue/a','custom-header':'1234'}
msg.body = "hello queue a"
print(msg.pack())
