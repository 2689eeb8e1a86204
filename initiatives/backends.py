from django.contrib.auth.backends import ModelBackend


class AuthenticationOnlyBackend(ModelBackend):
    """Signs people in with their password; grants no permission of its own.

    What a user may do is decided by the predicates in initiatives/permissions.py (django-rules),
    never by model permissions left on a group or a user.
    """

    def get_user_permissions(self, user_obj, obj=None):
        return set()

    def get_group_permissions(self, user_obj, obj=None):
        return set()
