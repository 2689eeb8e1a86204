"""The page answered for an uncaught error: 503 while the database is unreachable, otherwise 500.

Django calls ``handler500`` inside the ``except`` block of the failed request, so ``sys.exc_info()``
holds the error. Neither page touches the database: rendered without the request, so no context
processor asks for the user or the messages, both of which would need the database that just failed.
"""

import sys

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseServerError
from django.template import loader

RETRY_AFTER_SECONDS = 30


def database_unavailable(error):
    """A lost or refused connection (or a database too busy to answer), not a fault of the request.

    The driver's bare DatabaseError counts too: psycopg2 raises it when the server goes away in the middle of
    a result ("error with status PGRES_TUPLES_OK and no message from the libpq"), while every error of the
    SQL itself has its own subclass (ProgrammingError, IntegrityError, DataError, InternalError, ...)."""
    return isinstance(error, (OperationalError, InterfaceError)) or type(error) is DatabaseError


def server_error(request):
    error = sys.exc_info()[1]
    if database_unavailable(error):
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return HttpResponseServerError(loader.get_template("500.html").render())
