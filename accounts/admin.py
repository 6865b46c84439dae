from django.contrib import admin

from .models import Membership, Practice

admin.site.register(Practice)
admin.site.register(Membership)
