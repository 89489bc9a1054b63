"""A minimal client of the test world's API server for the launcher and the test hooks (standard library only, so
``up`` starts fast): JSON requests with the admin token over TLS verified against the world's CA."""
import json
import ssl
import urllib.error
import urllib.parse
import urllib.request


class ApiError(Exception):
    def __init__(self, status, body):
        self.status = status
        self.body = body
        try:
            message = json.loads(body).get('message', body)
        except ValueError:
            message = body
        super().__init__('%s: %s' % (status, message))


class Rest(object):
    def __init__(self, server, token, ca_file, user_agent='gpuvirt-test-world'):
        self.server = server.rstrip('/')
        self.token = token
        self.context = ssl.create_default_context(cafile=ca_file)
        self.user_agent = user_agent

    def request(self, method, path, body=None, content_type='application/json', query=None, timeout=30):
        url = self.server + path
        if query:
            url += '?' + urllib.parse.urlencode(query)
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        request = urllib.request.Request(url, data=data, method=method, headers={
            'Authorization': 'Bearer ' + self.token, 'Accept': 'application/json', 'Content-Type': content_type,
            'User-Agent': self.user_agent})
        try:
            with urllib.request.urlopen(request, timeout=timeout, context=self.context) as response:
                payload = response.read()
        except urllib.error.HTTPError as exc:
            raise ApiError(exc.code, exc.read().decode('utf-8', 'replace')) from None
        return json.loads(payload) if payload else None

    def get(self, path, **query):
        return self.request('GET', path, query=query or None)

    def create(self, path, body):
        return self.request('POST', path, body)

    def merge(self, path, body):
        return self.request('PATCH', path, body, content_type='application/merge-patch+json')

    def delete(self, path):
        return self.request('DELETE', path)

    def exists(self, path):
        try:
            self.get(path)
        except ApiError as exc:
            if exc.status == 404:
                return False
            raise
        return True
