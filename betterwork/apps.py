from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BetterworkConfig(AppConfig):
    name = "betterwork"
    verbose_name = _("Betterwork")

    def ready(self) -> None:
        from django.core.cache import cache
        from django.db.models.signals import post_delete, post_save

        from betterwork.models import Programme
        from betterwork.selectors import programme_cache_key

        def forget(sender: type, instance: Programme, **kwargs: object) -> None:
            cache.delete(programme_cache_key(instance.code))

        post_save.connect(forget, sender=Programme, weak=False, dispatch_uid="programme-cache")
        post_delete.connect(forget, sender=Programme, weak=False, dispatch_uid="programme-cache-delete")
        self._forget_who_is_asking()
        self._record_sign_ins()

    def _record_sign_ins(self) -> None:
        """Failed sign-ins of known accounts and lock-outs go on the audit trail (sign-ins
        themselves are recorded by the sign-in page: ``betterwork.views.SignInView``)."""
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_login_failed
        from django.http import HttpRequest

        from betterwork import services
        from betterwork.models import User

        def account(email: object) -> User | None:
            return User.objects.filter(email__iexact=str(email or "")).first() if email else None

        def failed(
            sender: str, credentials: dict[str, object], request: HttpRequest | None = None, **kwargs: object
        ) -> None:
            user = account(credentials.get("username"))
            if user is not None:
                address = services.client_address(request)
                services.sign_in_record(user=user, action=services.SIGN_IN_FAILED, address=address)

        def locked(
            sender: str, request: HttpRequest, username: str, ip_address: str, **kwargs: object
        ) -> None:
            user = account(username)
            if user is not None:
                services.sign_in_record(user=user, action=services.LOCKED_OUT, address=ip_address or "")

        user_login_failed.connect(failed, weak=False, dispatch_uid="audit-sign-in-failed")
        user_locked_out.connect(locked, weak=False, dispatch_uid="audit-locked-out")

    def _forget_who_is_asking(self) -> None:
        """A user, their grants or their API token changed: the cached copies go
        (``betterwork.auth_cache``), so a revoked grant or a deactivated user stops at once."""
        from django.db.models.signals import post_delete, post_save
        from rest_framework.authtoken.models import Token

        from betterwork import auth_cache
        from betterwork.models import RoleGrant, User

        def user_changed(sender: type, instance: User, **kwargs: object) -> None:
            auth_cache.forget_user(instance.pk)

        def grant_changed(sender: type, instance: RoleGrant, **kwargs: object) -> None:
            auth_cache.forget_grants(instance.user_id)

        def token_changed(sender: type, instance: Token, **kwargs: object) -> None:
            auth_cache.forget_token(instance.key)

        for signal in (post_save, post_delete):
            name = "save" if signal is post_save else "delete"
            signal.connect(user_changed, sender=User, weak=False, dispatch_uid=f"auth-cache-user-{name}")
            signal.connect(
                grant_changed, sender=RoleGrant, weak=False, dispatch_uid=f"auth-cache-grant-{name}"
            )
            signal.connect(token_changed, sender=Token, weak=False, dispatch_uid=f"auth-cache-token-{name}")
