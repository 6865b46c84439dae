from django.utils.cache import patch_cache_control


class NoStoreMiddleware:
    """No browser or proxy keeps a copy of what the app answers: pages, API responses and
    downloads carry patient or account data. (Static files are answered by WhiteNoise, which
    sits above this middleware, with their own long-lived caching.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        patch_cache_control(response, no_store=True)
        return response
