"""Faker: providers and locales imported by name, seeded."""
from faker import Faker

fake = Faker(["en_US", "en_GB"])
Faker.seed(1234)
for _ in range(3):
    print(fake["en_US"].name(), "|", fake["en_GB"].postcode(), "|", fake.unique.random_int(0, 1000))
