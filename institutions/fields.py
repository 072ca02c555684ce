"""Form fields for the register's reference data."""
from itertools import groupby

from django import forms

from .models import Region


class CityChoiceIterator(forms.models.ModelChoiceIterator):
    """The cities grouped by province (<optgroup>), in code order: 368 cities are not one flat list."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        queryset = self.queryset.select_related("parent").order_by("parent__code", "code")
        for province, cities in groupby(queryset, key=lambda city: city.parent):
            yield (province.name, [self.choice(city) for city in cities])


class CityChoiceField(forms.ModelChoiceField):
    """Choose one city in force (Region.objects.current()), grouped by province."""

    iterator = CityChoiceIterator

    def __init__(self, queryset=None, **kwargs):
        kwargs.setdefault("empty_label", "请选择市州")
        super().__init__(queryset if queryset is not None else Region.objects.current().filter(level=Region.Level.CITY),
                         **kwargs)
