"""The drug picker: a plain <select> of the catalog that static/js/drug_picker.js turns into a
searchable combobox (generic and brand names) when scripts run."""

from django import forms
from django.forms.renderers import TemplatesSetting

from . import catalog

GROUP_LABELS = {
    catalog.COMMON: "Common antidepressants",
    catalog.OTHER_ANTIDEPRESSANT: "Other antidepressants",
    catalog.NOT_ANTIDEPRESSANT: "Not antidepressants",
}


class DrugChoiceIterator(forms.models.ModelChoiceIterator):
    """The queryset's drugs grouped common first, each group alphabetical."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        groups = {}
        for drug in catalog.common_first(self.queryset):
            groups.setdefault(catalog.commonness(drug), []).append(self.choice(drug))
        for tier, choices in groups.items():
            yield (GROUP_LABELS[tier], choices)

    def __len__(self):
        return self.queryset.count() + (1 if self.field.empty_label is not None else 0)


class DrugPicker(forms.Select):
    template_name = "treatments/widgets/drug_picker.html"

    class Media:
        js = ["js/drug_picker.js"]

    def _render(self, template_name, context, renderer=None):
        # The project's template engine, so the widget's template lives under templates/.
        return super()._render(template_name, context, TemplatesSetting())

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        drugs = [
            option_value.instance
            for _, options in self.choices
            if isinstance(options, list)
            for option_value, _ in options
        ]
        widget_id = context["widget"]["attrs"].get("id") or f"id_{name}"
        context["picker"] = {
            "id": widget_id,
            "catalog_id": f"{widget_id}_catalog",
            "catalog": [catalog.picker_entry(drug) for drug in drugs],
            "invalid": "is-invalid" in context["widget"]["attrs"].get("class", ""),
        }
        return context


class DrugChoiceField(forms.ModelChoiceField):
    """A catalog drug, offered common first and labelled with its brands and class. Give it the
    queryset of the drugs a form allows (all of them for a trial)."""

    iterator = DrugChoiceIterator
    widget = DrugPicker

    def __init__(self, queryset, **kwargs):
        kwargs.setdefault("empty_label", "Choose a drug…")
        super().__init__(queryset, **kwargs)

    def label_from_instance(self, drug):
        return catalog.drug_label(drug)
